-- Visits that saw the child, by case and time: what visit timeliness is worked out
-- from (a year of them for a whole service), read from the index alone.
CREATE INDEX visits_case_seen ON visits (case_id, visited_at) WHERE outcome IN ('seen', 'seen_alone');
