use redis::aio::ConnectionManager;
use tokio::sync::OnceCell;

use super::Bucket;
use super::gcra::Verdict;

/// GCRA over several buckets in one atomic script, on the Redis server's clock so replicas
/// with skewed clocks agree. Either every bucket takes a token or none does.
const SCRIPT: &str = r#"
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local peek = tonumber(ARGV[1])
local results = {}
local admit = 1
local tats = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[i * 2])
  local tolerance = tonumber(ARGV[i * 2 + 1])
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  local new_tat = tat + interval
  tats[i] = new_tat
  if new_tat - now > tolerance then
    admit = 0
    results[i] = {0, math.ceil(tat - now), math.ceil(new_tat - now - tolerance)}
  else
    results[i] = {1, math.ceil(new_tat - now), 0}
  end
end
if admit == 1 and peek == 0 then
  for i, key in ipairs(KEYS) do
    redis.call('SET', key, tats[i], 'PX', math.max(1, math.ceil(tats[i] - now)))
  end
end
return results
"#;

pub struct RedisStore {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    script: redis::Script,
    namespace: String,
}

impl RedisStore {
    pub fn new(url: &str, namespace: &str) -> Result<Self, String> {
        let client = redis::Client::open(url)
            .map_err(|e| format!("setting CLIENTSTOR_GATEWAY__RATE_LIMIT__REDIS_URL: {e}"))?;
        Ok(Self {
            client,
            connection: OnceCell::new(),
            script: redis::Script::new(SCRIPT),
            namespace: namespace.to_string(),
        })
    }

    async fn connection(&self) -> Result<ConnectionManager, redis::RedisError> {
        self.connection
            .get_or_try_init(|| async { ConnectionManager::new(self.client.clone()).await })
            .await
            .cloned()
    }

    async fn run(&self, buckets: &[Bucket], peek: bool) -> Result<Vec<Verdict>, redis::RedisError> {
        let mut connection = self.connection().await?;
        let mut invocation = self.script.prepare_invoke();
        invocation.arg(i32::from(peek));
        for bucket in buckets {
            invocation.key(format!("{}:rl:{}", self.namespace, bucket.key));
            invocation.arg(bucket.quota.interval_ms().ceil() as i64);
            invocation.arg(bucket.quota.tolerance_ms().ceil() as i64);
        }
        let rows: Vec<(i64, i64, i64)> = invocation.invoke_async(&mut connection).await?;
        let admitted = rows.iter().all(|r| r.0 == 1);
        Ok(rows
            .into_iter()
            .zip(buckets)
            .map(|((allowed, reset, retry), bucket)| {
                let interval = bucket.quota.interval_ms();
                let tolerance = bucket.quota.tolerance_ms();
                let remaining = if allowed == 1 {
                    ((tolerance - reset as f64) / interval + 1e-6)
                        .floor()
                        .max(0.0) as u32
                } else {
                    0
                };
                Verdict {
                    allowed: allowed == 1 && admitted,
                    remaining,
                    reset_ms: reset as f64,
                    retry_after_ms: retry as f64,
                }
            })
            .collect())
    }

    pub async fn acquire(&self, buckets: &[Bucket]) -> Result<Vec<Verdict>, redis::RedisError> {
        self.run(buckets, false).await
    }

    pub async fn has_capacity(&self, bucket: &Bucket) -> Result<bool, redis::RedisError> {
        Ok(self
            .run(std::slice::from_ref(bucket), true)
            .await?
            .first()
            .is_some_and(|v| v.allowed))
    }
}
