use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// A TCP proxy between a service and Postgres or RabbitMQ. `cut()` drops every open connection
/// and refuses new ones until `restore()`, which is how tests take a dependency away without
/// touching the machine's shared servers.
pub struct FaultProxy {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    accept: AbortHandle,
}

#[derive(Default)]
struct State {
    cut: bool,
    connections: Vec<AbortHandle>,
}

impl FaultProxy {
    pub async fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let accept_state = state.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                if accept_state.lock().unwrap().cut {
                    drop(inbound);
                    continue;
                }
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                let mut state = accept_state.lock().unwrap();
                state.connections.retain(|c| !c.is_finished());
                state.connections.push(task.abort_handle());
            }
        })
        .abort_handle();
        FaultProxy {
            addr,
            state,
            accept,
        }
    }

    /// Proxy for a `host:port` (resolves it first).
    pub async fn to(upstream: &str) -> FaultProxy {
        let addr = tokio::net::lookup_host(upstream)
            .await
            .unwrap()
            .next()
            .unwrap();
        FaultProxy::start(addr).await
    }

    pub fn cut(&self) {
        let mut state = self.state.lock().unwrap();
        state.cut = true;
        for connection in state.connections.drain(..) {
            connection.abort();
        }
    }

    pub fn restore(&self) {
        self.state.lock().unwrap().cut = false;
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}
