-- AlterTable
ALTER TABLE "BatchOperation" ADD COLUMN "claimedSeq" INTEGER NOT NULL DEFAULT -1;

-- CreateTable
CREATE TABLE "BatchChunk" (
    "id" TEXT NOT NULL,
    "batchId" TEXT NOT NULL,
    "fromSeq" INTEGER NOT NULL,
    "toSeq" INTEGER NOT NULL,
    "leaseOwner" TEXT NOT NULL,
    "leaseExpiresAt" BIGINT NOT NULL,

    CONSTRAINT "BatchChunk_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "BatchChunk_batchId_fromSeq_idx" ON "BatchChunk"("batchId", "fromSeq");

-- AddForeignKey
ALTER TABLE "BatchChunk" ADD CONSTRAINT "BatchChunk_batchId_fkey" FOREIGN KEY ("batchId") REFERENCES "BatchOperation"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Items claimed one by one before this change go back to the queue (claims are ranges now).
UPDATE "BatchJobItem" SET "status" = 'queued', "leaseOwner" = NULL, "leaseToken" = NULL, "leaseExpiresAt" = 0 WHERE "status" = 'processing';
