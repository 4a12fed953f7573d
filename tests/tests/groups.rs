//! The `groups` imports: group sends with an exclusion, broadcast, and a
//! paginated member listing; a closed connection leaves its groups.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::json;
use wsgate_tests::{Client, Gateway, GatewayBuilder, WAIT, eventually};

fn probe_gateway() -> Gateway {
    GatewayBuilder::new()
        .probe(&["$connect", "whoami", "roomsend", "broadcast", "members"])
        .start()
}

#[tokio::test]
async fn a_group_send_reaches_members_but_the_excluded_one_and_no_one_else() {
    let gateway = probe_gateway();
    let mut ann = gateway.connect("/?room=red").await;
    let mut bob = gateway.connect("/?room=red").await;
    let mut cat = gateway.connect("/?room=blue").await;
    ann.send_json(
        json!({"action": "roomsend", "room": "red", "data": "to red", "excludeSelf": true}),
    )
    .await;
    assert_eq!(bob.recv_text().await, "to red");
    ann.expect_silence(Duration::from_millis(300)).await;
    cat.expect_silence(Duration::from_millis(300)).await;

    cat.send_json(json!({"action": "broadcast", "data": "to all"}))
        .await;
    for client in [&mut ann, &mut bob, &mut cat] {
        assert_eq!(client.recv_text().await, "to all");
    }
}

async fn list(lister: &mut Client, cursor: serde_json::Value) -> serde_json::Value {
    let request = json!({"action": "members", "room": "big", "cursor": cursor, "limit": 3});
    lister.send_json(request).await;
    lister.recv_json().await
}

#[tokio::test]
async fn members_are_listed_page_by_page_and_leave_when_they_close() {
    let gateway = probe_gateway();
    let mut members = Vec::new();
    let mut ids = BTreeSet::new();
    for _ in 0..7 {
        let mut client = gateway.connect("/?room=big").await;
        ids.insert(client.whoami_id().await);
        members.push(client);
    }
    let mut lister = gateway.connect("/").await;
    let mut seen = Vec::new();
    let mut cursor = serde_json::Value::Null;
    let mut pages = 0;
    loop {
        let page = list(&mut lister, cursor).await;
        let page_ids = page["ids"].as_array().unwrap();
        assert!(page_ids.len() <= 3, "{page}");
        seen.extend(page_ids.iter().map(|id| id.as_str().unwrap().to_owned()));
        pages += 1;
        cursor = page["next"].clone();
        if cursor.is_null() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), ids);
    assert_eq!(seen.len(), ids.len(), "no id listed twice");

    let leaving = members.pop().unwrap();
    leaving.close(1000, "").await;
    eventually("the closed connection leaves the group", WAIT, async || {
        let page = json!({"action": "members", "room": "big", "cursor": null, "limit": 100});
        lister.send_json(page).await;
        let page = lister.recv_json().await;
        if page["ids"].as_array().unwrap().len() == 6 {
            Ok(())
        } else {
            Err(page)
        }
    })
    .await;
}
