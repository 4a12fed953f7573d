//! Groups and broadcast through the management API: sends reach members only,
//! membership can be changed and listed page by page.

use std::time::Duration;

use wsgate_tests::{Gateway, GatewayBuilder};

const QUIET: Duration = Duration::from_millis(300);

fn probe_gateway() -> Gateway {
    GatewayBuilder::new()
        .probe(&["$connect", "whoami"])
        .api_token("group-token")
        .start()
}

#[tokio::test]
async fn a_group_send_reaches_its_members_only() {
    let gateway = probe_gateway();
    let mut ann = gateway.connect("/?room=red").await;
    let mut bob = gateway.connect("/?room=red").await;
    let mut cat = gateway.connect("/?room=blue").await;
    let ann_id = ann.whoami_id().await;

    assert_eq!(
        gateway.api("POST", "/@groups/red", b"to red").await.status,
        200
    );
    assert_eq!(ann.recv_text().await, "to red");
    assert_eq!(bob.recv_text().await, "to red");
    cat.expect_silence(QUIET).await;

    let path = format!("/@groups/red?exclude={ann_id}");
    assert_eq!(gateway.api("POST", &path, b"not ann").await.status, 200);
    assert_eq!(bob.recv_text().await, "not ann");
    ann.expect_silence(QUIET).await;

    let empty = gateway.api("POST", "/@groups/nobody", b"lost").await;
    assert_eq!(empty.status, 200);

    let path = format!("/@broadcast?exclude={ann_id}");
    assert_eq!(gateway.api("POST", &path, b"to all").await.status, 200);
    assert_eq!(bob.recv_text().await, "to all");
    assert_eq!(cat.recv_text().await, "to all");
    ann.expect_silence(QUIET).await;
}

#[tokio::test]
async fn membership_is_changed_and_listed_through_the_api() {
    let gateway = probe_gateway();
    let mut clients = Vec::new();
    for _ in 0..5 {
        let mut client = gateway.connect("/").await;
        let id = client.whoami_id().await;
        let joined = gateway
            .api("PUT", &format!("/@groups/green%20room/{id}"), b"")
            .await;
        assert_eq!(joined.status, 204, "{}", joined.text());
        clients.push((id, client));
    }
    clients.sort_by(|a, b| a.0.cmp(&b.0));
    let ids: Vec<String> = clients.iter().map(|(id, _)| id.clone()).collect();

    let mut listed = Vec::new();
    let mut path = "/@groups/green%20room?limit=2".to_owned();
    loop {
        let page = gateway.api("GET", &path, b"").await.json();
        listed.extend(
            page["connectionIds"]
                .as_array()
                .unwrap()
                .iter()
                .map(|id| id.as_str().unwrap().to_owned()),
        );
        match page["nextCursor"].as_str() {
            Some(cursor) => path = format!("/@groups/green%20room?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(listed, ids);

    let leaving = &ids[0];
    let left = gateway
        .api("DELETE", &format!("/@groups/green%20room/{leaving}"), b"")
        .await;
    assert_eq!(left.status, 204);
    let members = gateway
        .api("GET", "/@groups/green%20room", b"")
        .await
        .json();
    assert_eq!(members["connectionIds"].as_array().unwrap().len(), 4);
    assert!(members["nextCursor"].is_null());

    gateway.api("POST", "/@groups/green%20room", b"green").await;
    let (_, left_client) = &mut clients[0];
    left_client.expect_silence(QUIET).await;
    for (_, member) in &mut clients[1..] {
        assert_eq!(member.recv_text().await, "green");
    }
    gateway
        .api("PUT", "/@groups/green%20room/no-such-id", b"")
        .await
        .assert_error(410, "GoneException");
}
