-- subject_erasures.seq: the order tombstones were recorded (or renewed) in, so etl keeps them in memory and reads only the new ones per batch
-- Stamped by the trigger fetchde.subject_erasure_stamp (functions/60-subjects.sql) while the
-- table is held exclusively, so a batch that did not see a tombstone finds it by seq later.
CREATE SEQUENCE IF NOT EXISTS fetchde.subject_erasure_seq;
ALTER TABLE fetchde.subject_erasures ADD COLUMN IF NOT EXISTS seq bigint;
UPDATE fetchde.subject_erasures SET seq = nextval('fetchde.subject_erasure_seq') WHERE seq IS NULL;
-- No default: only the trigger stamps it (a row written without it fails NOT NULL).
ALTER TABLE fetchde.subject_erasures ALTER COLUMN seq SET NOT NULL;
ALTER SEQUENCE fetchde.subject_erasure_seq OWNED BY fetchde.subject_erasures.seq;
REVOKE ALL ON SEQUENCE fetchde.subject_erasure_seq FROM PUBLIC;
CREATE UNIQUE INDEX IF NOT EXISTS subject_erasures_seq_idx ON fetchde.subject_erasures (seq);
