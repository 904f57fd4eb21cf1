-- Maintenance records and fuel logs of a vehicle. Amounts are kept as integers in their
-- smallest shown unit (cents, hundredths of a gallon, tenths of a cent per gallon) and shown
-- as decimal strings, so sums never drift.
CREATE TABLE inventory.vehicle_maintenance (
    id BIGSERIAL PRIMARY KEY,
    vehicle_id BIGINT NOT NULL REFERENCES inventory.vehicles (id) ON DELETE CASCADE,
    maintenance_type TEXT NOT NULL DEFAULT 'other',
    description TEXT NOT NULL DEFAULT '',
    service_date DATE NOT NULL,
    mileage_at_service INTEGER,
    performed_by TEXT,
    labor_cost_cents BIGINT NOT NULL DEFAULT 0,
    parts_cost_cents BIGINT NOT NULL DEFAULT 0,
    is_scheduled BOOLEAN NOT NULL DEFAULT false,
    next_due_mileage INTEGER,
    next_due_date DATE,
    notes TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX vehicle_maintenance_vehicle ON inventory.vehicle_maintenance (vehicle_id, service_date);

CREATE TABLE inventory.vehicle_fuel_logs (
    id BIGSERIAL PRIMARY KEY,
    vehicle_id BIGINT NOT NULL REFERENCES inventory.vehicles (id) ON DELETE CASCADE,
    date DATE NOT NULL,
    mileage INTEGER NOT NULL,
    gallons_hundredths BIGINT NOT NULL,
    cost_per_gallon_mills BIGINT,
    total_cost_cents BIGINT,
    station TEXT,
    notes TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Miles driven come from the previous log by mileage, so that order is indexed.
CREATE INDEX vehicle_fuel_logs_vehicle ON inventory.vehicle_fuel_logs (vehicle_id, mileage);
