-- A fresh database has BATCH_OPERATIONS present and disabled (contract: Feature flags).
INSERT INTO "FeatureFlag" ("name", "description", "enabled", "rollout", "whitelist", "blacklist", "createdAt", "updatedAt", "updatedBy")
VALUES ('BATCH_OPERATIONS', 'Gates every /batches endpoint and the batch Socket.io subscriptions', false, 0, '[]', '[]', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'migration');
