-- The stream-lock hold, measured where it happens (notify_stream_lock_hold_seconds, docs/DELIVERY.md).
-- The group statement (NotificationRepository.insertGroup) notes, transaction-locally, when its first
-- stream row lock was granted. This statement-level trigger runs after the row-level foreign-key
-- checks, i.e. at the end of the statement's work, and reports the time since then to the client as
-- a NOTICE. Inserts that did not set the note (every other writer) report nothing.
CREATE FUNCTION "notify_report_stream_lock_hold"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  granted text := current_setting('notify.stream_lock_granted', true);
BEGIN
  IF granted IS NOT NULL AND granted <> '' THEN
    RAISE NOTICE 'notify_stream_lock_hold_us=%', (extract(epoch FROM clock_timestamp() - granted::timestamptz) * 1000000)::bigint;
    PERFORM set_config('notify.stream_lock_granted', '', true);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER "notifications_report_stream_lock_hold" AFTER INSERT ON "notifications"
  FOR EACH STATEMENT EXECUTE FUNCTION "notify_report_stream_lock_hold"();
