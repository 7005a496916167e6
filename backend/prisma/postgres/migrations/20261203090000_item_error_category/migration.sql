-- AlterTable
ALTER TABLE "BatchJobItem" ADD COLUMN     "errorCategory" TEXT,
ADD COLUMN     "retryable" BOOLEAN;
