DROP TABLE inventory.vehicle_fuel_logs; DROP TABLE inventory.vehicle_maintenance;
