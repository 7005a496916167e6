-- The retry index of BatchJobItem (SQLite and PostgreSQL alike). Only items queued again behind
-- their batch's claimedSeq have nextAttemptAt > 0, so storing an item and recording its first
-- outcome never touch it. Prisma 6 cannot declare a partial index: the module's own migrations
-- create it, and a host appends this file to the migration that adds the models (docs/integrating.md).
-- Without it, retries are still found, by a scan of the batch's rows.
CREATE INDEX "BatchJobItem_retry_idx" ON "BatchJobItem"("batchKey", "seq") WHERE "nextAttemptAt" > 0;
