//! Reading the stored entries from PostgreSQL with `COPY … TO STDOUT (FORMAT binary)`,
//! and splitting that format into rows.

use super::corrupt;
use super::read::{Run, Runs};
use crate::{Store, StoreError};

/// Reads entries 1..=`upto` from PostgreSQL with `COPY … TO STDOUT (FORMAT binary)`: the
/// rows arrive as one stream of length-prefixed fields, with none of a query's per-row
/// decoding. A range of entries per `COPY` (an index range scan, not a sort of the whole
/// log), the ranges taken in turn by two connections so that one's server works while
/// the other's rows are parsed; they are passed on in order.
pub(super) async fn read_postgres_copy(store: Store, upto: i64, run: usize, out: Runs) {
    use sqlx::ConnectOptions as _;
    let range = i64::try_from(run.saturating_mul(10)).unwrap_or(i64::MAX).clamp(1, 200_000);
    let ranges: Vec<(i64, i64)> = (0..)
        .map(|k| 1 + k * range)
        .take_while(|from| *from <= upto)
        .map(|from| (from, (from + range).min(upto + 1)))
        .collect();
    let options = match sqlx::postgres::PgConnectOptions::from_url(&store.pool().connect_options().database_url) {
        Ok(o) => match store.pg_schema() {
            Some(schema) => o.options([("search_path", schema)]),
            None => o,
        },
        Err(e) => {
            let _ = out.send(Err(e.into())).await;
            return;
        }
    };
    let mut streams = Vec::new();
    for turn in 0..2 {
        let (tx, rx) = tokio::sync::mpsc::channel(2);
        let mine: Vec<(i64, i64)> = ranges.iter().skip(turn).step_by(2).copied().collect();
        tokio::spawn(copy_ranges(options.clone(), mine, run, tx));
        streams.push(rx);
    }
    for k in 0..ranges.len() {
        loop {
            let piece = streams[k % 2].recv().await;
            let run = match piece {
                Some(Ok(Some(run))) => Ok(run),
                Some(Ok(None)) => break,
                Some(Err(e)) => Err(e),
                None => Err(corrupt("reading the trail: a COPY stream stopped")),
            };
            let failed = run.is_err();
            if out.send(run).await.is_err() || failed {
                return;
            }
        }
    }
}

/// One connection's share of [`read_postgres_copy`]: each range as runs of `run` entries,
/// then `None`.
async fn copy_ranges(
    options: sqlx::postgres::PgConnectOptions,
    ranges: Vec<(i64, i64)>,
    run: usize,
    out: tokio::sync::mpsc::Sender<Result<Option<Run>, StoreError>>,
) {
    use futures_util::StreamExt as _;
    use sqlx::Connection as _;
    let read = async {
        let mut conn = sqlx::postgres::PgConnection::connect_with(&options).await?;
        for (from, to) in ranges {
            let sql = format!(
                "COPY (SELECT entry, prev_hash, hash FROM audit_log WHERE seq >= {from} AND seq < {to} ORDER BY seq) \
                 TO STDOUT (FORMAT binary)"
            );
            let mut current = Run::default();
            let mut fields = CopyFields::default();
            let mut stream = conn.copy_out_raw(&sql).await?;
            while let Some(chunk) = stream.next().await {
                fields.feed(&chunk?);
                while let Some([entry, prev_hash, hash]) = fields.next_row()? {
                    current.push(fields.text(&entry)?, fields.text(&prev_hash)?, fields.text(&hash)?);
                    if current.len == run && out.send(Ok(Some(std::mem::take(&mut current)))).await.is_err() {
                        return Ok(());
                    }
                }
            }
            if (current.len > 0 && out.send(Ok(Some(current))).await.is_err()) || out.send(Ok(None)).await.is_err() {
                return Ok(());
            }
        }
        Ok::<(), StoreError>(())
    };
    if let Err(e) = read.await {
        let _ = out.send(Err(e)).await;
    }
}

/// Splits PostgreSQL's binary `COPY` format into rows of three text fields: after a
/// 19-byte header (and its extension), each row is a 16-bit field count, then per field a
/// 32-bit length and the bytes; a count of -1 ends the data.
#[derive(Default)]
struct CopyFields {
    buffer: Vec<u8>,
    at: usize,
    header_read: bool,
}

impl CopyFields {
    fn feed(&mut self, bytes: &[u8]) {
        if self.at > 0 && self.at == self.buffer.len() {
            self.buffer.clear();
            self.at = 0;
        } else if self.at > 1 << 20 {
            self.buffer.drain(..self.at);
            self.at = 0;
        }
        self.buffer.extend_from_slice(bytes);
    }

    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let bytes = self.buffer.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(bytes)
    }

    /// The next whole row, if the buffer holds one: where its three fields lie in it.
    fn next_row(&mut self) -> Result<Option<[std::ops::Range<usize>; 3]>, StoreError> {
        let bad = |what: &str| corrupt(format!("reading the trail with COPY: {what}"));
        let start = self.at;
        if !self.header_read {
            let Some(head) = self.take(19) else { return Ok(None) };
            if !head.starts_with(b"PGCOPY\n\xff\r\n\0") {
                return Err(bad("not binary COPY data"));
            }
            let extension = u32::from_be_bytes([head[15], head[16], head[17], head[18]]) as usize;
            if self.take(extension).is_none() {
                self.at = start;
                return Ok(None);
            }
            self.header_read = true;
            return self.next_row();
        }
        let Some(count) = self.take(2).map(|b| i16::from_be_bytes([b[0], b[1]])) else { return Ok(None) };
        if count == -1 {
            return Ok(None);
        }
        if count != 3 {
            return Err(bad("a row without three fields"));
        }
        let mut row: [std::ops::Range<usize>; 3] = Default::default();
        for field in &mut row {
            let Some(len) = self.take(4).map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]])) else {
                self.at = start;
                return Ok(None);
            };
            // NULL (-1) reads as empty text, which no check accepts.
            let len = usize::try_from(len).unwrap_or(0);
            let from = self.at;
            if self.take(len).is_none() {
                self.at = start;
                return Ok(None);
            }
            *field = from..from + len;
        }
        Ok(Some(row))
    }

    /// A field of the last row read, as text.
    fn text(&self, field: &std::ops::Range<usize>) -> Result<&str, StoreError> {
        std::str::from_utf8(self.buffer.get(field.clone()).unwrap_or_default())
            .map_err(|_| corrupt("reading the trail with COPY: text that is not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::CopyFields;

    fn field(out: &mut Vec<u8>, text: &str) {
        out.extend_from_slice(&i32::try_from(text.len()).unwrap_or(0).to_be_bytes());
        out.extend_from_slice(text.as_bytes());
    }

    /// Binary COPY data arriving in any pieces reads as the same rows.
    #[test]
    fn copy_rows_survive_any_split() {
        let mut data = b"PGCOPY\n\xff\r\n\0".to_vec();
        data.extend_from_slice(&0u32.to_be_bytes());
        data.extend_from_slice(&3u32.to_be_bytes());
        data.extend_from_slice(b"ext");
        let rows = [["{\"seq\":1}", "a", "b"], ["{\"seq\":2,\"x\":\"é\"}", "", "cc"]];
        for row in &rows {
            data.extend_from_slice(&3i16.to_be_bytes());
            for text in row {
                field(&mut data, text);
            }
        }
        data.extend_from_slice(&(-1i16).to_be_bytes());
        for piece in [1, 2, 5, 7, data.len()] {
            let mut fields = CopyFields::default();
            let mut got = Vec::new();
            for chunk in data.chunks(piece) {
                fields.feed(chunk);
                while let Some([a, b, c]) = fields.next_row().expect("valid data") {
                    got.push([a, b, c].map(|r| fields.text(&r).expect("text").to_string()));
                }
            }
            assert_eq!(got, rows.map(|r| r.map(String::from)), "pieces of {piece}");
        }
        let mut fields = CopyFields::default();
        fields.feed(b"PGCOPZ\n\xff\r\n\0\0\0\0\0\0\0\0\0");
        assert!(fields.next_row().is_err());
    }
}
