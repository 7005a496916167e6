-- Integer keys inside the engine (public ids unchanged): a batch gets "key", chunks and
-- items point at it, and an item row has one index, its primary key ("batchKey", "seq"),
-- instead of three indexes carrying the 36-character batch id. The item id column goes:
-- an item's public id is "<batch id>.<seq, 7 digits>", as it always was.
-- Tables are copied aside, dropped children first (so no cascade fires) and created anew.

CREATE TABLE "_old_BatchOperation" AS SELECT * FROM "BatchOperation";
CREATE TABLE "_old_BatchChunk" AS SELECT * FROM "BatchChunk";
CREATE TABLE "_old_BatchJobItem" AS SELECT * FROM "BatchJobItem";
DROP TABLE "BatchJobItem";
DROP TABLE "BatchChunk";
DROP TABLE "BatchOperation";

CREATE TABLE "BatchOperation" (
    "key" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "id" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "operation" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "itemCount" INTEGER NOT NULL,
    "processedCount" INTEGER NOT NULL DEFAULT 0,
    "succeededCount" INTEGER NOT NULL DEFAULT 0,
    "failedCount" INTEGER NOT NULL DEFAULT 0,
    "cancelledCount" INTEGER NOT NULL DEFAULT 0,
    "options" JSONB NOT NULL,
    "metadata" JSONB,
    "correlationId" TEXT NOT NULL,
    "sealed" BOOLEAN NOT NULL DEFAULT false,
    "lastClaimedAt" BIGINT NOT NULL DEFAULT 0,
    "eventSeq" INTEGER NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "startedAt" DATETIME,
    "finishedAt" DATETIME,
    "claimedSeq" INTEGER NOT NULL DEFAULT -1
);

CREATE TABLE "BatchChunk" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "batchKey" INTEGER NOT NULL,
    "fromSeq" INTEGER NOT NULL,
    "toSeq" INTEGER NOT NULL,
    "leaseOwner" TEXT NOT NULL,
    "leaseExpiresAt" BIGINT NOT NULL,
    CONSTRAINT "BatchChunk_batchKey_fkey" FOREIGN KEY ("batchKey") REFERENCES "BatchOperation" ("key") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE "BatchJobItem" (
    "batchKey" INTEGER NOT NULL,
    "seq" INTEGER NOT NULL,
    "payload" JSONB NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "progress" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "result" JSONB,
    "nextAttemptAt" BIGINT NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "stage" TEXT,
    "errorCategory" TEXT,
    "retryable" BOOLEAN,

    PRIMARY KEY ("batchKey", "seq"),
    CONSTRAINT "BatchJobItem_batchKey_fkey" FOREIGN KEY ("batchKey") REFERENCES "BatchOperation" ("key") ON DELETE CASCADE ON UPDATE CASCADE
);

INSERT INTO "BatchOperation" ("id", "userId", "operation", "status", "itemCount", "processedCount", "succeededCount", "failedCount", "cancelledCount", "options", "metadata", "correlationId", "sealed", "lastClaimedAt", "eventSeq", "createdAt", "updatedAt", "startedAt", "finishedAt", "claimedSeq")
SELECT "id", "userId", "operation", "status", "itemCount", "processedCount", "succeededCount", "failedCount", "cancelledCount", "options", "metadata", "correlationId", "sealed", "lastClaimedAt", "eventSeq", "createdAt", "updatedAt", "startedAt", "finishedAt", "claimedSeq" FROM "_old_BatchOperation" ORDER BY "createdAt", "id";

INSERT INTO "BatchChunk" ("id", "batchKey", "fromSeq", "toSeq", "leaseOwner", "leaseExpiresAt")
SELECT c."id", b."key", c."fromSeq", c."toSeq", c."leaseOwner", c."leaseExpiresAt"
FROM "_old_BatchChunk" c JOIN "BatchOperation" b ON b."id" = c."batchId";

-- A queued item behind its batch's claimedSeq is a retry (or an item given back): it gets a
-- nextAttemptAt > 0, which puts it in the retry index below.
INSERT INTO "BatchJobItem" ("batchKey", "seq", "payload", "status", "attempts", "progress", "error", "result",
  "nextAttemptAt", "createdAt", "updatedAt", "stage", "errorCategory", "retryable")
SELECT b."key", i."seq", i."payload", i."status", i."attempts", i."progress", i."error", i."result",
  CASE WHEN i."status" = 'queued' AND i."seq" <= b."claimedSeq" AND i."nextAttemptAt" = 0 THEN 1 ELSE i."nextAttemptAt" END,
  i."createdAt", i."updatedAt", i."stage", i."errorCategory", i."retryable"
FROM "_old_BatchJobItem" i JOIN "BatchOperation" b ON b."id" = i."batchId"
ORDER BY b."key", i."seq";

DROP TABLE "_old_BatchJobItem";
DROP TABLE "_old_BatchChunk";
DROP TABLE "_old_BatchOperation";

CREATE UNIQUE INDEX "BatchOperation_id_key" ON "BatchOperation"("id");
CREATE INDEX "BatchOperation_userId_createdAt_id_idx" ON "BatchOperation"("userId", "createdAt", "id");
CREATE INDEX "BatchOperation_status_sealed_lastClaimedAt_idx" ON "BatchOperation"("status", "sealed", "lastClaimedAt");
CREATE INDEX "BatchOperation_finishedAt_idx" ON "BatchOperation"("finishedAt");
CREATE INDEX "BatchChunk_batchKey_fromSeq_idx" ON "BatchChunk"("batchKey", "fromSeq");

-- The retry index: only items queued again behind claimedSeq (nextAttemptAt > 0) are in it,
-- so storing an item and recording its first outcome never touch it. Prisma 6 cannot declare
-- a partial index; see docs/integrating.md.
CREATE INDEX "BatchJobItem_retry_idx" ON "BatchJobItem"("batchKey", "seq") WHERE "nextAttemptAt" > 0;
