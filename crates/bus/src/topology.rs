//! Exchange and queue declarations. Everything is declared idempotently by whoever needs it.

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{Channel, ExchangeKind};

/// What the bus needs from the settings; tests give each test its own exchange and queue prefix.
#[derive(Debug, Clone)]
pub struct BusSettings {
    pub url: String,
    pub exchange: String,
    pub queue_prefix: String,
    pub prefetch: u16,
    pub delivery_limit: u32,
    /// Shown in the broker's management UI.
    pub connection_name: String,
}

impl BusSettings {
    pub fn from_config(
        settings: &clientstor_config::Settings,
        service: clientstor_config::Service,
    ) -> Self {
        Self {
            url: settings.amqp.url.expose().to_string(),
            exchange: settings.amqp.exchange.clone(),
            queue_prefix: settings.amqp.queue_prefix.clone(),
            prefetch: settings.amqp.prefetch,
            delivery_limit: settings.amqp.delivery_limit,
            connection_name: service.binary().to_string(),
        }
    }

    pub fn dead_letter_exchange(&self) -> String {
        format!("{}.dlx", self.exchange)
    }

    pub fn queue_name(&self, service: &str) -> String {
        format!("{}{service}.events", self.queue_prefix)
    }

    pub fn dead_letter_queue(&self, service: &str) -> String {
        format!("{}.dlq", self.queue_name(service))
    }
}

fn durable_exchange() -> ExchangeDeclareOptions {
    ExchangeDeclareOptions {
        durable: true,
        ..ExchangeDeclareOptions::default()
    }
}

pub async fn declare_exchange(channel: &Channel, settings: &BusSettings) -> lapin::Result<()> {
    channel
        .exchange_declare(
            ShortString::from(settings.exchange.as_str()),
            ExchangeKind::Topic,
            durable_exchange(),
            FieldTable::default(),
        )
        .await
}

fn string(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value))
}

/// The service's durable quorum queue, its dead-letter queue, and the bindings.
/// The delivery limit is explicit because broker versions differ in their defaults.
pub async fn declare_queue(
    channel: &Channel,
    settings: &BusSettings,
    service: &str,
    routing_keys: &[String],
) -> lapin::Result<String> {
    declare_exchange(channel, settings).await?;
    let dlx = settings.dead_letter_exchange();
    channel
        .exchange_declare(
            ShortString::from(dlx.as_str()),
            ExchangeKind::Direct,
            durable_exchange(),
            FieldTable::default(),
        )
        .await?;
    let queue = settings.queue_name(service);
    let dlq = settings.dead_letter_queue(service);
    let durable = QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    };

    let mut dlq_args = FieldTable::default();
    dlq_args.insert("x-queue-type".into(), string("quorum"));
    channel
        .queue_declare(ShortString::from(dlq.as_str()), durable, dlq_args)
        .await?;
    channel
        .queue_bind(
            ShortString::from(dlq.as_str()),
            ShortString::from(dlx.as_str()),
            ShortString::from(queue.as_str()),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;

    let mut args = FieldTable::default();
    args.insert("x-queue-type".into(), string("quorum"));
    args.insert(
        "x-delivery-limit".into(),
        AMQPValue::LongLongInt(i64::from(settings.delivery_limit)),
    );
    args.insert("x-dead-letter-exchange".into(), string(&dlx));
    args.insert("x-dead-letter-routing-key".into(), string(&queue));
    channel
        .queue_declare(ShortString::from(queue.as_str()), durable, args)
        .await?;
    for key in routing_keys {
        channel
            .queue_bind(
                ShortString::from(queue.as_str()),
                ShortString::from(settings.exchange.as_str()),
                ShortString::from(key.as_str()),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
    }
    Ok(queue)
}
