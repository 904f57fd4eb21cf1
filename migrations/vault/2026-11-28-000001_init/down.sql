DROP TABLE vault.outbox;
DROP TABLE vault.inbox;
DROP TABLE vault.organizations;
