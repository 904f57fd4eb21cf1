DROP TABLE monitor.rollups;
DROP TABLE monitor.checks;
DROP TABLE monitor.monitors;
