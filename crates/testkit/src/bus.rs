use clientstor_config::Service;
use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};
use lapin::types::ShortString;
use lapin::{Connection, ConnectionProperties};

/// An exchange and queue prefix of one test's own, deleted when the value is dropped.
pub struct TestBus {
    pub url: String,
    pub exchange: String,
    pub queue_prefix: String,
}

pub fn amqp_url() -> String {
    std::env::var("CLIENTSTOR_AMQP__URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_string())
}

impl TestBus {
    pub fn new() -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        TestBus {
            url: amqp_url(),
            exchange: format!("cstest.{id}"),
            queue_prefix: format!("cstest.{id}."),
        }
    }

    /// The queue a service consumes from, as the bus names it.
    pub fn queue(&self, service: Service) -> String {
        format!("{}{}.events", self.queue_prefix, service.section())
    }

    async fn delete_all(url: String, exchange: String, prefix: String) {
        let Ok(connection) = Connection::connect(&url, ConnectionProperties::default()).await
        else {
            return;
        };
        let Ok(channel) = connection.create_channel().await else {
            return;
        };
        for service in Service::ALL {
            let queue = format!("{prefix}{}.events", service.section());
            for name in [queue.clone(), format!("{queue}.dlq")] {
                let _ = channel
                    .queue_delete(ShortString::from(name), QueueDeleteOptions::default())
                    .await;
            }
        }
        for name in [exchange.clone(), format!("{exchange}.dlx")] {
            let _ = channel
                .exchange_delete(ShortString::from(name), ExchangeDeleteOptions::default())
                .await;
        }
        let _ = connection.close(200, ShortString::from("test done")).await;
    }
}

impl Default for TestBus {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestBus {
    fn drop(&mut self) {
        let (url, exchange, prefix) = (
            self.url.clone(),
            self.exchange.clone(),
            self.queue_prefix.clone(),
        );
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(TestBus::delete_all(url, exchange, prefix));
        })
        .join();
    }
}
