
-- CreateTable
CREATE TABLE "BatchOperation" (
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
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "BatchOperation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "BatchJobItem" (
    "id" TEXT NOT NULL,
    "batchId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "payload" JSONB NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "progress" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "result" JSONB,
    "nextAttemptAt" BIGINT NOT NULL DEFAULT 0,
    "leaseOwner" TEXT,
    "leaseToken" TEXT,
    "leaseExpiresAt" BIGINT NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "BatchJobItem_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Paper" (
    "id" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "doi" TEXT,
    "authors" JSONB NOT NULL,
    "year" INTEGER,
    "abstract" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Paper_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "IdempotencyRecord" (
    "userId" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "batchId" TEXT,
    "expiresAt" BIGINT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "IdempotencyRecord_pkey" PRIMARY KEY ("userId","key")
);

-- CreateTable
CREATE TABLE "RateLimit" (
    "identifier" TEXT NOT NULL,
    "policy" TEXT NOT NULL,
    "windowStart" BIGINT NOT NULL,
    "count" INTEGER NOT NULL,
    "expiresAt" BIGINT NOT NULL,

    CONSTRAINT "RateLimit_pkey" PRIMARY KEY ("identifier","policy","windowStart")
);

-- CreateTable
CREATE TABLE "FeatureFlag" (
    "name" TEXT NOT NULL,
    "description" TEXT,
    "enabled" BOOLEAN NOT NULL DEFAULT false,
    "rollout" DECIMAL(65,30) NOT NULL DEFAULT 0,
    "whitelist" JSONB NOT NULL DEFAULT '[]',
    "blacklist" JSONB NOT NULL DEFAULT '[]',
    "metadata" JSONB,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "updatedBy" TEXT,

    CONSTRAINT "FeatureFlag_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "FeatureFlagAudit" (
    "id" SERIAL NOT NULL,
    "flagName" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "before" JSONB,
    "after" JSONB,
    "correlationId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "FeatureFlagAudit_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "BatchOperation_userId_createdAt_id_idx" ON "BatchOperation"("userId", "createdAt", "id");

-- CreateIndex
CREATE INDEX "BatchOperation_status_sealed_lastClaimedAt_idx" ON "BatchOperation"("status", "sealed", "lastClaimedAt");

-- CreateIndex
CREATE INDEX "BatchOperation_finishedAt_idx" ON "BatchOperation"("finishedAt");

-- CreateIndex
CREATE INDEX "BatchJobItem_batchId_status_seq_idx" ON "BatchJobItem"("batchId", "status", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "BatchJobItem_batchId_seq_key" ON "BatchJobItem"("batchId", "seq");

-- CreateIndex
CREATE INDEX "Paper_userId_createdAt_id_idx" ON "Paper"("userId", "createdAt", "id");

-- CreateIndex
CREATE UNIQUE INDEX "Paper_userId_doi_key" ON "Paper"("userId", "doi");

-- CreateIndex
CREATE INDEX "IdempotencyRecord_expiresAt_idx" ON "IdempotencyRecord"("expiresAt");

-- CreateIndex
CREATE INDEX "RateLimit_expiresAt_idx" ON "RateLimit"("expiresAt");

-- CreateIndex
CREATE INDEX "FeatureFlagAudit_flagName_id_idx" ON "FeatureFlagAudit"("flagName", "id");

-- AddForeignKey
ALTER TABLE "BatchJobItem" ADD CONSTRAINT "BatchJobItem_batchId_fkey" FOREIGN KEY ("batchId") REFERENCES "BatchOperation"("id") ON DELETE CASCADE ON UPDATE CASCADE;

