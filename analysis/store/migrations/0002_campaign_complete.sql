-- qoeprobe results schema, version 2 (docs/postgres.md): whether a campaign is
-- complete. false while a load or `qoeprobe run --postgres` writes it; at the end of
-- each, true when every run of campaign.json's plan is loaded and complete, false
-- when one is missing or incomplete, NULL when campaign.json has no plan.
ALTER TABLE campaigns ADD COLUMN complete boolean;
