-- etl_quarantine: how often a message was quarantined; vault_admin may replay (load logins) and purge
-- A message SQS delivers again while it is quarantined counts again instead of being dropped
-- silently; sent_at (SentTimestamp) and receive_count are there since migration 1.
ALTER TABLE public.etl_quarantine ADD COLUMN IF NOT EXISTS seen_count integer NOT NULL DEFAULT 1;
ALTER TABLE public.etl_quarantine ADD COLUMN IF NOT EXISTS last_seen_at timestamptz;
GRANT SELECT (seen_count, last_seen_at), UPDATE (seen_count, last_seen_at) ON public.etl_quarantine TO etl_ingest;
-- vault quarantine replay loads the bodies through the pipeline's loader, as vault_admin.
GRANT INSERT ON public.user_logins TO vault_admin;
GRANT UPDATE (reason), DELETE ON public.etl_quarantine TO vault_admin;
-- purge by age, list --since.
CREATE INDEX IF NOT EXISTS etl_quarantine_quarantined_at_idx ON public.etl_quarantine (quarantined_at);
