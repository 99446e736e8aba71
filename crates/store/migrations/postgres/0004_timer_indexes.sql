-- The sweeper writes two timers for every escalation it raises, so every index on timers
-- costs in a burst. Lookups by subject always name the kinds too, and the unique
-- (kind, subject) index of outstanding timers serves them: this one was redundant.
-- Keep in step with ../sqlite/0004_timer_indexes.sql.

DROP INDEX timers_subject;
