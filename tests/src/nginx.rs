//! A real L7 proxy for the deployment tests: Debian's nginx (installed by
//! `cargo xtask test`) in front of gateway replicas, configured as a
//! Kubernetes Ingress or an Application Gateway is: WebSocket upgrades
//! passed through with long read timeouts, `/health` answered by a
//! replica, a replica that is down or answers 503 (draining) skipped for
//! the next. Killed when dropped.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};

use crate::process::Process;
use crate::{WAIT, eventually_blocking};

/// A running nginx.
pub struct Nginx {
    addr: SocketAddr,
    _dir: tempfile::TempDir,
    _child: Process,
}

impl Nginx {
    /// Starts nginx on a free loopback port in front of `upstreams`, and
    /// waits until it accepts connections.
    pub fn start(upstreams: &[SocketAddr]) -> Nginx {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("find a free port")
            .port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let dir = tempfile::tempdir().expect("a directory for nginx");
        let servers: String = upstreams
            .iter()
            .map(|upstream| format!("    server {upstream} max_fails=1 fail_timeout=1s;\n"))
            .collect();
        let config = format!(
            "daemon off;\nworker_processes 1;\npid nginx.pid;\nerror_log error.log warn;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n  access_log off;\n\
               client_body_temp_path tmp/body;\n  proxy_temp_path tmp/proxy;\n\
               fastcgi_temp_path tmp/fastcgi;\n  uwsgi_temp_path tmp/uwsgi;\n  scgi_temp_path tmp/scgi;\n\
               map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}\n\
               upstream gateways {{\n{servers}  }}\n\
               server {{\n    listen {addr};\n\
                 location = /health {{ proxy_pass http://gateways; }}\n\
                 location / {{\n      proxy_pass http://gateways;\n      proxy_http_version 1.1;\n\
                   proxy_set_header Upgrade $http_upgrade;\n      proxy_set_header Connection $connection_upgrade;\n\
                   proxy_set_header Host $host;\n      proxy_read_timeout 1h;\n      proxy_send_timeout 1h;\n\
                   proxy_next_upstream error timeout http_502 http_503;\n    }}\n  }}\n}}\n"
        );
        std::fs::create_dir(dir.path().join("tmp")).expect("nginx's temporary directory");
        std::fs::write(dir.path().join("nginx.conf"), config).expect("write nginx.conf");
        // Debian installs it in /usr/sbin, which not every PATH has.
        let program = match std::path::Path::new("/usr/sbin/nginx").is_file() {
            true => "/usr/sbin/nginx",
            false => "nginx",
        };
        let mut command = Command::new(program);
        command
            .arg("-p")
            .arg(dir.path())
            .args(["-c", "nginx.conf", "-e", "error.log"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = Process::spawn(command, "start nginx (installed by `cargo xtask test`)");
        eventually_blocking("nginx accepts connections", WAIT, || {
            TcpStream::connect(addr).map(drop)
        });
        Nginx {
            addr,
            _dir: dir,
            _child: child,
        }
    }

    /// A WebSocket URL of `path` through the proxy.
    pub fn url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    /// Where the proxy listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}
