-- Retention (docs/OPERATIONS.md): the pruner deletes the oldest rows past the horizon in small
-- batches, found by creation time. Without this index each batch would scan the table.

-- CreateIndex
CREATE INDEX "notifications_created_at_idx" ON "notifications"("created_at");
