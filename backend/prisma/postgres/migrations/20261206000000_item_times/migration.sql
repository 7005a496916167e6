-- An item row's time as an integer: "updatedAt" becomes epoch milliseconds, and the item's
-- "createdAt" (never read: a batch has its own) goes, as on SQLite, where the two ISO-8601
-- texts made most of a small item's row. Timestamps here are UTC (timestamp(3) as the ORM writes them).

ALTER TABLE "BatchJobItem" DROP COLUMN "createdAt";
ALTER TABLE "BatchJobItem" ALTER COLUMN "updatedAt" TYPE BIGINT
  USING (EXTRACT(EPOCH FROM "updatedAt") * 1000)::bigint;
