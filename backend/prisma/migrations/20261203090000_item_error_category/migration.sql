-- AlterTable
ALTER TABLE "BatchJobItem" ADD COLUMN "errorCategory" TEXT;
ALTER TABLE "BatchJobItem" ADD COLUMN "retryable" BOOLEAN;
