DROP TABLE inventory.vehicles;
