-- CreateTable
CREATE TABLE "FeatureFlagRolloutPlan" (
    "flagName" TEXT NOT NULL,
    "plan" JSONB NOT NULL,
    "state" TEXT NOT NULL,
    "step" INTEGER NOT NULL,
    "stepStartedAt" BIGINT NOT NULL,
    "history" JSONB NOT NULL DEFAULT '[]',
    "leaseOwner" TEXT,
    "leaseExpiresAt" BIGINT NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "updatedBy" TEXT,

    CONSTRAINT "FeatureFlagRolloutPlan_pkey" PRIMARY KEY ("flagName")
);

-- CreateTable
CREATE TABLE "FeatureFlagRolloutSample" (
    "id" SERIAL NOT NULL,
    "flagName" TEXT NOT NULL,
    "at" BIGINT NOT NULL,
    "cohort" TEXT NOT NULL,
    "requests" INTEGER NOT NULL DEFAULT 0,
    "serverErrors" INTEGER NOT NULL DEFAULT 0,
    "databaseBusy" INTEGER NOT NULL DEFAULT 0,
    "itemsSettled" INTEGER NOT NULL DEFAULT 0,
    "itemsFailed" INTEGER NOT NULL DEFAULT 0,
    "latency" JSONB NOT NULL,

    CONSTRAINT "FeatureFlagRolloutSample_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "FeatureFlagRolloutSample_flagName_at_idx" ON "FeatureFlagRolloutSample"("flagName", "at");

