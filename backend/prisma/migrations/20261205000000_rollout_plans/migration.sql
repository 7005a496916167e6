-- CreateTable
CREATE TABLE "FeatureFlagRolloutPlan" (
    "flagName" TEXT NOT NULL PRIMARY KEY,
    "plan" JSONB NOT NULL,
    "state" TEXT NOT NULL,
    "step" INTEGER NOT NULL,
    "stepStartedAt" BIGINT NOT NULL,
    "history" JSONB NOT NULL DEFAULT [],
    "leaseOwner" TEXT,
    "leaseExpiresAt" BIGINT NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "updatedBy" TEXT
);

-- CreateTable
CREATE TABLE "FeatureFlagRolloutSample" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "flagName" TEXT NOT NULL,
    "at" BIGINT NOT NULL,
    "cohort" TEXT NOT NULL,
    "requests" INTEGER NOT NULL DEFAULT 0,
    "serverErrors" INTEGER NOT NULL DEFAULT 0,
    "databaseBusy" INTEGER NOT NULL DEFAULT 0,
    "itemsSettled" INTEGER NOT NULL DEFAULT 0,
    "itemsFailed" INTEGER NOT NULL DEFAULT 0,
    "latency" JSONB NOT NULL
);

-- CreateIndex
CREATE INDEX "FeatureFlagRolloutSample_flagName_at_idx" ON "FeatureFlagRolloutSample"("flagName", "at");

