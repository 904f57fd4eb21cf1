-- Service vehicles, organization-scoped (upstream kept them global).
CREATE TABLE inventory.vehicles (
    id BIGSERIAL PRIMARY KEY,
    organization_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    vehicle_type TEXT NOT NULL DEFAULT 'other',
    make TEXT,
    model TEXT,
    year INTEGER,
    color TEXT,
    vin TEXT,
    license_plate TEXT,
    status TEXT NOT NULL DEFAULT 'active',
    condition TEXT NOT NULL DEFAULT 'good',
    current_mileage INTEGER NOT NULL DEFAULT 0,
    insurance_provider TEXT,
    insurance_policy_number TEXT,
    insurance_expires_at DATE,
    registration_expires_at DATE,
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    last_location_update TIMESTAMPTZ,
    assigned_to BIGINT,
    purchase_date DATE,
    -- Money in cents, shown as a decimal string.
    purchase_price_cents BIGINT,
    notes TEXT NOT NULL DEFAULT '',
    -- {"integration": id, "external_id": "…"} when an RMM device reports its position.
    rmm_device JSONB,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX vehicles_organization ON inventory.vehicles (organization_id, id);
CREATE UNIQUE INDEX vehicles_vin ON inventory.vehicles (organization_id, vin) WHERE vin IS NOT NULL;
