-- AlterTable
ALTER TABLE "BatchJobItem" ADD COLUMN     "stage" TEXT;

-- AlterTable
ALTER TABLE "Paper" ADD COLUMN     "fullText" TEXT,
ADD COLUMN     "fullTextStatus" TEXT NOT NULL DEFAULT 'none',
ADD COLUMN     "fullTextWords" INTEGER;

