-- An item row's time as an integer: "updatedAt" becomes epoch milliseconds, and the item's
-- "createdAt" (never read: a batch has its own) goes. On SQLite the two ISO-8601 texts were
-- 58 of the ~90 bytes of a small item's row; the item table now takes about half the pages,
-- and storing and recording items write about half as much. SQLite cannot change a column's
-- type, so the table is rewritten (one pass, in position order), with its retry index.

PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;

CREATE TABLE "new_BatchJobItem" (
    "batchKey" INTEGER NOT NULL,
    "seq" INTEGER NOT NULL,
    "payload" JSONB NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "progress" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "result" JSONB,
    "nextAttemptAt" BIGINT NOT NULL DEFAULT 0,
    "updatedAt" BIGINT NOT NULL,
    "stage" TEXT,
    "errorCategory" TEXT,
    "retryable" BOOLEAN,

    PRIMARY KEY ("batchKey", "seq"),
    CONSTRAINT "BatchJobItem_batchKey_fkey" FOREIGN KEY ("batchKey") REFERENCES "BatchOperation" ("key") ON DELETE CASCADE ON UPDATE CASCADE
);

-- The ORM wrote ISO-8601 text (…T12:00:00.000+00:00); an integer is kept as epoch ms.
INSERT INTO "new_BatchJobItem" ("batchKey", "seq", "payload", "status", "attempts", "progress", "error", "result",
  "nextAttemptAt", "updatedAt", "stage", "errorCategory", "retryable")
SELECT "batchKey", "seq", "payload", "status", "attempts", "progress", "error", "result", "nextAttemptAt",
  CASE WHEN typeof("updatedAt") = 'integer' THEN "updatedAt"
       ELSE CAST(ROUND((julianday("updatedAt") - 2440587.5) * 86400000) AS INTEGER) END,
  "stage", "errorCategory", "retryable"
FROM "BatchJobItem"
ORDER BY "batchKey", "seq";

DROP TABLE "BatchJobItem";
ALTER TABLE "new_BatchJobItem" RENAME TO "BatchJobItem";

-- The retry index (backend/prisma/retry-index.sql), which went with the old table.
CREATE INDEX "BatchJobItem_retry_idx" ON "BatchJobItem"("batchKey", "seq") WHERE "nextAttemptAt" > 0;

PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
