-- AlterTable
ALTER TABLE "BatchJobItem" ADD COLUMN "stage" TEXT;

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Paper" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "userId" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "doi" TEXT,
    "authors" JSONB NOT NULL,
    "year" INTEGER,
    "abstract" TEXT,
    "fullTextStatus" TEXT NOT NULL DEFAULT 'none',
    "fullText" TEXT,
    "fullTextWords" INTEGER,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);
INSERT INTO "new_Paper" ("abstract", "authors", "createdAt", "doi", "id", "title", "updatedAt", "userId", "year") SELECT "abstract", "authors", "createdAt", "doi", "id", "title", "updatedAt", "userId", "year" FROM "Paper";
DROP TABLE "Paper";
ALTER TABLE "new_Paper" RENAME TO "Paper";
CREATE INDEX "Paper_userId_createdAt_id_idx" ON "Paper"("userId", "createdAt", "id");
CREATE UNIQUE INDEX "Paper_userId_doi_key" ON "Paper"("userId", "doi");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

