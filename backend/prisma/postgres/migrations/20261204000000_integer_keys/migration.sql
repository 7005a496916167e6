-- Integer keys inside the engine (public ids unchanged): a batch gets "key", chunks and
-- items point at it, and an item row has one index, its primary key ("batchKey", "seq"),
-- instead of three indexes carrying the 36-character batch id. The item id column goes:
-- an item's public id is "<batch id>.<seq, 7 digits>", as it always was.

ALTER TABLE "BatchJobItem" DROP CONSTRAINT "BatchJobItem_batchId_fkey";
ALTER TABLE "BatchChunk" DROP CONSTRAINT "BatchChunk_batchId_fkey";
ALTER TABLE "BatchOperation" DROP CONSTRAINT "BatchOperation_pkey";

-- Keys in creation order (a SERIAL column added to a table numbers its rows in scan order).
CREATE SEQUENCE "BatchOperation_key_seq" AS INTEGER;
ALTER TABLE "BatchOperation" ADD COLUMN "key" INTEGER;
UPDATE "BatchOperation" b SET "key" = o."n"
FROM (SELECT "id", nextval('"BatchOperation_key_seq"') AS "n" FROM "BatchOperation" ORDER BY "createdAt", "id") o
WHERE b."id" = o."id";
ALTER TABLE "BatchOperation" ALTER COLUMN "key" SET NOT NULL,
  ALTER COLUMN "key" SET DEFAULT nextval('"BatchOperation_key_seq"');
ALTER SEQUENCE "BatchOperation_key_seq" OWNED BY "BatchOperation"."key";
ALTER TABLE "BatchOperation" ADD CONSTRAINT "BatchOperation_pkey" PRIMARY KEY ("key");
CREATE UNIQUE INDEX "BatchOperation_id_key" ON "BatchOperation"("id");

ALTER TABLE "BatchChunk" ADD COLUMN "batchKey" INTEGER;
UPDATE "BatchChunk" c SET "batchKey" = b."key" FROM "BatchOperation" b WHERE b."id" = c."batchId";
ALTER TABLE "BatchChunk" ALTER COLUMN "batchKey" SET NOT NULL;
ALTER TABLE "BatchChunk" DROP COLUMN "batchId";
CREATE INDEX "BatchChunk_batchKey_fromSeq_idx" ON "BatchChunk"("batchKey", "fromSeq");

-- Items are rewritten into a new table (one pass, no dead row versions left behind).
CREATE TABLE "BatchJobItem_new" (
    "batchKey" INTEGER NOT NULL,
    "seq" INTEGER NOT NULL,
    "payload" JSONB NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "progress" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "result" JSONB,
    "nextAttemptAt" BIGINT NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "stage" TEXT,
    "errorCategory" TEXT,
    "retryable" BOOLEAN
);
-- A queued item behind its batch's claimedSeq is a retry (or an item given back): it gets a
-- nextAttemptAt > 0, which puts it in the retry index below.
INSERT INTO "BatchJobItem_new" ("batchKey", "seq", "payload", "status", "attempts", "progress", "error", "result",
  "nextAttemptAt", "createdAt", "updatedAt", "stage", "errorCategory", "retryable")
SELECT b."key", i."seq", i."payload", i."status", i."attempts", i."progress", i."error", i."result",
  CASE WHEN i."status" = 'queued' AND i."seq" <= b."claimedSeq" AND i."nextAttemptAt" = 0 THEN 1 ELSE i."nextAttemptAt" END,
  i."createdAt", i."updatedAt", i."stage", i."errorCategory", i."retryable"
FROM "BatchJobItem" i JOIN "BatchOperation" b ON b."id" = i."batchId"
ORDER BY b."key", i."seq";
DROP TABLE "BatchJobItem";
ALTER TABLE "BatchJobItem_new" RENAME TO "BatchJobItem";
ALTER TABLE "BatchJobItem" ADD CONSTRAINT "BatchJobItem_pkey" PRIMARY KEY ("batchKey", "seq");

ALTER TABLE "BatchChunk" ADD CONSTRAINT "BatchChunk_batchKey_fkey" FOREIGN KEY ("batchKey") REFERENCES "BatchOperation"("key") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "BatchJobItem" ADD CONSTRAINT "BatchJobItem_batchKey_fkey" FOREIGN KEY ("batchKey") REFERENCES "BatchOperation"("key") ON DELETE CASCADE ON UPDATE CASCADE;

-- The retry index: only items queued again behind claimedSeq (nextAttemptAt > 0) are in it,
-- so storing an item and recording its first outcome never touch it. Prisma 6 cannot declare
-- a partial index; see docs/integrating.md.
CREATE INDEX "BatchJobItem_retry_idx" ON "BatchJobItem"("batchKey", "seq") WHERE "nextAttemptAt" > 0;
