-- CreateTable
CREATE TABLE "OperationSlot" (
    "operation" TEXT NOT NULL,
    "slot" INTEGER NOT NULL,
    "holder" TEXT,
    "leaseExpiresAt" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "OperationSlot_pkey" PRIMARY KEY ("operation","slot")
);

-- CreateTable
CREATE TABLE "OperationWindow" (
    "operation" TEXT NOT NULL,
    "windowStart" BIGINT NOT NULL,
    "count" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "OperationWindow_pkey" PRIMARY KEY ("operation","windowStart")
);

-- CreateTable
CREATE TABLE "OperationHold" (
    "operation" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "until" BIGINT NOT NULL,

    CONSTRAINT "OperationHold_pkey" PRIMARY KEY ("operation","key")
);

