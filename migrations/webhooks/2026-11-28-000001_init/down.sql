DROP TABLE webhooks.attempts;
DROP TABLE webhooks.deliveries;
DROP TABLE webhooks.endpoints;
DROP TABLE webhooks.inbox;
DROP TABLE webhooks.organizations;
