//! `code_enum!`: enums whose every value has a fixed code, the same in the API, store and trail.
//!
//! It uses nothing else in the crate, so any module can declare such an enum without a cycle.

macro_rules! code_enum {
    // `$code` is a `tt`, not a `literal`: a `literal` fragment reaches derives wrapped in an
    // invisible group, which the schema derive does not read as a `rename`.
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $code:tt),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize,
            ::utoipa::ToSchema,
        )]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $code)] $variant),+
        }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The code used in the API and the store.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// Parses a code, naming the accepted ones when it is wrong.
            pub fn parse(s: &str) -> Result<Self, String> {
                match s.trim() {
                    $($code => Ok($name::$variant),)+
                    _ => Err(format!("must be one of {}", [$($code),+].join(", "))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}
pub(crate) use code_enum;
