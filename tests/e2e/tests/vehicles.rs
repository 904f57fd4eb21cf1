//! Vehicles through the gateway.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use clientstor_e2e::Stack;
use serde_json::{Value, json};

async fn body(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

fn date_in(days: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(days)).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vehicles_are_validated_filtered_searched_and_edited() {
    let stack = Stack::start(false).await;
    let van = json!({
        "name": "Van 1", "vehicle_type": "cargo_van", "make": "Ford", "model": "Transit", "year": 2022,
        "vin": "1ftbw2cm5hkb12345", "license_plate": "AB-123-C", "status": "active", "condition": "good",
        "current_mileage": 42000, "insurance_expires_at": date_in(10), "registration_expires_at": date_in(200),
        "assigned_to": 7, "purchase_price": "38999.5", "latitude": 52.1, "longitude": 5.1
    });
    let created = stack.post("/api/v1/vehicles/", van.clone()).await;
    assert_eq!(created.status(), 201);
    let created = body(created).await;
    assert_eq!(
        created["vin"], "1FTBW2CM5HKB12345",
        "VINs are stored upper-case"
    );
    assert_eq!(created["purchase_price"], "38999.50");
    assert_eq!(created["organization_name"], "Acme Corp");
    let truck = json!({"name": "Truck 2", "vehicle_type": "truck", "make": "Volvo", "status": "maintenance",
        "registration_expires_at": date_in(90)});
    assert_eq!(stack.post("/api/v1/vehicles/", truck).await.status(), 201);

    let bad = body(
        stack
            .post(
                "/api/v1/vehicles/",
                json!({"name": "x", "vin": "1HGCM82633A00435O", "year": 1800, "status": "parked"}),
            )
            .await,
    )
    .await;
    for field in ["vin", "year", "status"] {
        assert!(bad[field].is_array(), "{field}: {bad}");
    }
    let duplicate = stack
        .post(
            "/api/v1/vehicles/",
            json!({"name": "copy", "vin": "1FTBW2CM5HKB12345"}),
        )
        .await;
    assert_eq!(duplicate.status(), 400);
    assert!(body(duplicate).await["vin"].is_array());

    let count = |path: &'static str| {
        let stack = &stack;
        async move { body(stack.get(path).await).await["count"].as_i64().unwrap() }
    };
    assert_eq!(count("/api/v1/vehicles/").await, 2);
    assert_eq!(count("/api/v1/vehicles/?status=maintenance").await, 1);
    assert_eq!(count("/api/v1/vehicles/?vehicle_type=cargo_van").await, 1);
    assert_eq!(count("/api/v1/vehicles/?assigned_to=7").await, 1);
    assert_eq!(
        count("/api/v1/vehicles/?expiring_within_days=30").await,
        1,
        "insurance in 10 days"
    );
    assert_eq!(count("/api/v1/vehicles/?expiring_within_days=100").await, 2);
    for term in ["ab-123", "transit", "volvo", "1ftbw2"] {
        let path = format!("/api/v1/vehicles/?search={term}");
        assert_eq!(
            body(stack.get(&path).await).await["count"],
            1,
            "search {term}"
        );
    }
    let ordered = body(stack.get("/api/v1/vehicles/?ordering=-name").await).await;
    assert_eq!(ordered["results"][0]["name"], "Van 1");

    let url = stack.url(&format!("/api/vehicles/{}/", created["id"]));
    let patched = stack
        .http
        .patch(&url)
        .bearer_auth(&stack.key)
        .json(&json!({"current_mileage": 43000, "assigned_to": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let patched = body(patched).await;
    assert_eq!(patched["current_mileage"], 43000);
    assert!(patched["assigned_to"].is_null());
    assert_eq!(patched["make"], "Ford");
    assert_eq!(
        stack
            .http
            .delete(&url)
            .bearer_auth(&stack.key)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        stack
            .get(&format!("/api/v1/vehicles/{}/", created["id"]))
            .await
            .status(),
        404
    );

    let viewer = {
        clientstor_e2e::admin(
            &stack.gateway,
            &["user", "create", "--email", "ro@acme.test"],
        )
        .await;
        clientstor_e2e::admin(
            &stack.gateway,
            &[
                "membership",
                "create",
                "--user",
                "ro@acme.test",
                "--org",
                "acme-corp",
                "--role",
                "readonly",
            ],
        )
        .await;
        stack
            .key_for("ro@acme.test", "acme-corp", &["--role", "readonly"])
            .await
    };
    assert_eq!(
        stack
            .post_as(&viewer, "/api/v1/vehicles/", json!({"name": "nope"}))
            .await
            .status(),
        403
    );
    assert_eq!(
        stack.get_as(&viewer, "/api/v1/vehicles/").await.status(),
        200
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintenance_records_and_fuel_logs_are_nested_under_their_vehicle() {
    use reqwest::Method;
    let stack = Stack::start(false).await;
    let van = body(
        stack
            .post(
                "/api/v1/vehicles/",
                json!({"name": "Van 9", "current_mileage": 10000}),
            )
            .await,
    )
    .await;
    let base = format!("/api/v1/vehicles/{}", van["id"]);

    // Maintenance: total is labor + parts; overdue by date, by mileage, and not once superseded.
    let maintenance = format!("{base}/maintenance/");
    let oil = stack
        .post(
            &maintenance,
            json!({"maintenance_type": "oil_change", "service_date": date_in(-200),
                "mileage_at_service": 5000, "labor_cost": "40", "parts_cost": 25.5,
                "next_due_date": date_in(-20), "next_due_mileage": 15000}),
        )
        .await;
    assert_eq!(oil.status(), 201);
    let oil = body(oil).await;
    assert_eq!(oil["total_cost"], "65.50");
    assert_eq!(oil["overdue"], true, "past its due date: {oil}");
    let tires = body(
        stack
            .post(
                &maintenance,
                json!({"maintenance_type": "tire_rotation", "service_date": date_in(-30),
                    "next_due_date": date_in(60), "next_due_mileage": 12000}),
            )
            .await,
    )
    .await;
    assert_eq!(tires["overdue"], false);
    let bad = stack
        .post(
            &maintenance,
            json!({"maintenance_type": "wash", "labor_cost": "-1"}),
        )
        .await;
    assert_eq!(bad.status(), 400);
    let bad = body(bad).await;
    for field in ["maintenance_type", "labor_cost", "service_date"] {
        assert!(bad[field].is_array(), "{field}: {bad}");
    }
    let later_oil = stack
        .post(
            &maintenance,
            json!({"maintenance_type": "oil_change", "service_date": date_in(-1)}),
        )
        .await;
    assert_eq!(later_oil.status(), 201);
    let first_oil = format!("{maintenance}{}/", oil["id"]);
    assert_eq!(
        body(stack.get(&first_oil).await).await["overdue"],
        false,
        "a later oil change supersedes it"
    );
    let list = body(
        stack
            .get(&format!("{maintenance}?maintenance_type=oil_change"))
            .await,
    )
    .await;
    assert_eq!(list["count"], 2);
    assert_eq!(
        list["results"][0]["service_date"],
        date_in(-1),
        "newest first"
    );
    let patched = stack
        .send(
            Method::PATCH,
            &first_oil,
            Some(json!({"performed_by": "Quick Lube"})),
        )
        .await;
    assert_eq!(patched.status(), 200);
    let patched = body(patched).await;
    assert_eq!(patched["performed_by"], "Quick Lube");
    assert_eq!(patched["total_cost"], "65.50", "PATCH keeps the rest");

    // Fuel logs: miles and MPG from the previous lower reading; the odometer only goes up.
    let fuel = format!("{base}/fuel-logs/");
    let fill = |mileage: i64, gallons: &str, price: Option<&str>| {
        let mut log = json!({"date": date_in(0), "mileage": mileage, "gallons": gallons});
        if let Some(price) = price {
            log["cost_per_gallon"] = json!(price);
        }
        log
    };
    let first = body(stack.post(&fuel, fill(10100, "10", Some("3.459"))).await).await;
    assert!(first["miles_driven"].is_null());
    assert_eq!(first["total_cost"], "34.59");
    let second = body(stack.post(&fuel, fill(10400, "12.00", None)).await).await;
    assert_eq!(second["miles_driven"], 300);
    assert_eq!(second["mpg"], 25.0);
    let vehicle = body(stack.get(&format!("{base}/")).await).await;
    assert_eq!(vehicle["current_mileage"], 10400);
    // An older fill-up entered late sits between them and does not lower the odometer.
    let late = body(stack.post(&fuel, fill(10250, "6", None)).await).await;
    assert_eq!(late["miles_driven"], 150);
    assert_eq!(
        body(stack.get(&format!("{base}/")).await).await["current_mileage"],
        10400
    );
    let logs = body(stack.get(&fuel).await).await;
    assert_eq!(logs["count"], 3);
    assert_eq!(
        logs["results"][0]["mileage"], 10400,
        "highest reading first"
    );
    assert_eq!(
        logs["results"][0]["miles_driven"], 150,
        "measured from the late entry now"
    );
    let bad = body(
        stack
            .post(&fuel, json!({"gallons": "0", "mileage": -5}))
            .await,
    )
    .await;
    for field in ["gallons", "mileage", "date"] {
        assert!(bad[field].is_array(), "{field}: {bad}");
    }
    // Crossing the due mileage makes the tire rotation overdue.
    assert_eq!(
        stack.post(&fuel, fill(12500, "20", None)).await.status(),
        201
    );
    let tires_now = body(stack.get(&format!("{maintenance}{}/", tires["id"])).await).await;
    assert_eq!(tires_now["overdue"], true);
    let log_url = format!("{fuel}{}/", late["id"]);
    assert_eq!(
        stack.send(Method::DELETE, &log_url, None).await.status(),
        204
    );
    assert_eq!(stack.get(&log_url).await.status(), 404);

    // Nested records of a vehicle outside the caller's organizations are 404.
    assert_eq!(
        stack
            .get("/api/v1/vehicles/999999/maintenance/")
            .await
            .status(),
        404
    );
    let other = body(
        stack
            .post("/api/v1/vehicles/", json!({"name": "Van 10"}))
            .await,
    )
    .await;
    assert_eq!(
        stack
            .get(&format!(
                "/api/v1/vehicles/{}/maintenance/{}/",
                other["id"], oil["id"]
            ))
            .await
            .status(),
        404,
        "a record is only found under its own vehicle"
    );
    // Deleting the vehicle removes its records.
    assert_eq!(
        stack
            .send(Method::DELETE, &format!("{base}/"), None)
            .await
            .status(),
        204
    );
    assert_eq!(
        stack
            .count_all("SELECT count(*) AS n FROM inventory.vehicle_fuel_logs")
            .await,
        Some(0)
    );
    stack.stop().await;
}
