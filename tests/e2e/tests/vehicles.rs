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
