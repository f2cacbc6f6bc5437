mod common;
use common::*;

use daytona::models::SandboxClass;
use daytona::{ListSandboxes, SandboxState};
use mockito::{Matcher, Mock, Server};
use serde_json::json;

/// Three pages of three items: `c2` and `c3` are the cursors of pages 2 and 3.
fn three_pages(server: &mut Server, expect: [usize; 3]) -> [Mock; 3] {
    let p1 = reply_json(
        list_mock(server, Matcher::Missing),
        200,
        &list_page(&["a1", "a2", "a3"], Some("c2")),
    )
    .expect(expect[0])
    .create();
    let p2 = reply_json(
        list_mock(server, Matcher::Exact("cursor=c2".into())),
        200,
        &list_page(&["b1", "b2", "b3"], Some("c3")),
    )
    .expect(expect[1])
    .create();
    let p3 = reply_json(
        list_mock(server, Matcher::Exact("cursor=c3".into())),
        200,
        &list_page(&["c1", "c2", "c3"], None),
    )
    .expect(expect[2])
    .create();
    [p1, p2, p3]
}

#[test]
fn taking_one_page_of_items_makes_one_request() {
    let mut server = Server::new();
    let mocks = three_pages(&mut server, [1, 0, 0]);

    let first: Vec<_> = client(&server)
        .list(ListSandboxes::new())
        .take(3)
        .collect::<Result<_, _>>()
        .unwrap();

    assert_all(&mocks);
    assert_eq!(sandbox_ids(&first), ["a1", "a2", "a3"]);
}

#[test]
fn full_iteration_requests_each_page_once_with_its_cursor() {
    let mut server = Server::new();
    let mocks = three_pages(&mut server, [1, 1, 1]);

    let all: Vec<_> = client(&server)
        .list(ListSandboxes::new())
        .collect::<Result<_, _>>()
        .unwrap();

    assert_all(&mocks);
    assert_eq!(
        sandbox_ids(&all),
        ["a1", "a2", "a3", "b1", "b2", "b3", "c1", "c2", "c3"]
    );
}

#[test]
fn filters_are_sent_on_every_page_with_the_cursor() {
    let mut server = Server::new();
    let labels = r#"{"env":"dev"}"#;
    let p1 = reply_json(
        list_mock(
            &mut server,
            Matcher::AllOf(vec![
                Matcher::UrlEncoded("limit".into(), "2".into()),
                Matcher::UrlEncoded("labels".into(), labels.into()),
                Matcher::Regex("^limit=2&labels=[^&]*$".into()),
            ]),
        ),
        200,
        &list_page(&["a1", "a2"], Some("next/page+2")),
    )
    .expect(1)
    .create();
    let p2 = reply_json(
        list_mock(
            &mut server,
            Matcher::AllOf(vec![
                Matcher::UrlEncoded("limit".into(), "2".into()),
                Matcher::UrlEncoded("labels".into(), labels.into()),
                Matcher::UrlEncoded("cursor".into(), "next/page+2".into()),
                Matcher::Regex("^limit=2&labels=[^&]*&cursor=[^&]*$".into()),
            ]),
        ),
        200,
        &list_page(&["b1"], None),
    )
    .expect(1)
    .create();

    let all: Vec<_> = client(&server)
        .list(ListSandboxes::new().limit(2).label("env", "dev"))
        .collect::<Result<_, _>>()
        .unwrap();

    p1.assert();
    p2.assert();
    assert_eq!(sandbox_ids(&all), ["a1", "a2", "b1"]);
}

#[test]
fn an_error_page_yields_one_error_then_ends() {
    let mut server = Server::new();
    let m = reply_json(
        list_mock(&mut server, Matcher::Missing),
        500,
        &json!({ "statusCode": 500, "message": "Internal server error" }),
    )
    .expect(1)
    .create();

    let mut pages = client(&server).list(ListSandboxes::new());
    let err = pages.next().unwrap().unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert!(pages.next().is_none());
    assert!(pages.next().is_none());

    m.assert();
}

#[test]
fn an_error_on_a_later_page_comes_after_the_earlier_items() {
    let mut server = Server::new();
    let p1 = reply_json(
        list_mock(&mut server, Matcher::Missing),
        200,
        &list_page(&["a1", "a2"], Some("c2")),
    )
    .expect(1)
    .create();
    let p2 = reply_json(
        list_mock(&mut server, Matcher::Exact("cursor=c2".into())),
        500,
        &json!({ "statusCode": 500, "message": "boom" }),
    )
    .expect(1)
    .create();

    let results: Vec<_> = client(&server).list(ListSandboxes::new()).collect();

    p1.assert();
    p2.assert();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0].as_ref().unwrap().id(), "a1");
    assert_eq!(results[1].as_ref().unwrap().id(), "a2");
    assert_eq!(results[2].as_ref().unwrap_err().status(), Some(500));
}

/// A sandbox the SDK cannot decode (a required field missing, a number
/// that is text) is an error in its place: the items around it and the
/// next page still come, and the error names the item and the field
/// without quoting its values. `list_page`, which returns whole pages,
/// fails with that error.
#[test]
fn an_item_that_does_not_decode_is_an_error_of_its_own() {
    let mut server = Server::new();
    let mut no_id = list_item_json("a2");
    no_id.as_object_mut().unwrap().remove("id");
    let mut text_cpu = list_item_json("a3");
    text_cpu["cpu"] = json!("four");
    text_cpu["name"] = json!("secret-name-7f3");
    let first = json!({
        "items": [list_item_json("a1"), no_id, text_cpu, list_item_json("a4")],
        "nextCursor": "c2",
    });
    let p1 = reply_json(list_mock(&mut server, Matcher::Missing), 200, &first)
        .expect(2)
        .create();
    let p2 = reply_json(
        list_mock(&mut server, Matcher::Exact("cursor=c2".into())),
        200,
        &list_page(&["b1"], None),
    )
    .expect(1)
    .create();

    let results: Vec<_> = client(&server).list(ListSandboxes::new()).collect();
    let shown: Vec<Result<&str, String>> = results
        .iter()
        .map(|r| r.as_ref().map(|s| s.id()).map_err(|e| e.to_string()))
        .collect();
    assert_eq!(shown.len(), 5, "{shown:?}");
    assert_eq!(shown[0], Ok("a1"));
    assert_eq!(shown[3], Ok("a4"));
    assert_eq!(shown[4], Ok("b1"));
    let missing = results[1].as_ref().unwrap_err();
    assert!(missing.is_decode(), "{missing:?}");
    let text = missing.to_string();
    assert!(
        text.contains("item 2 of the page") && text.contains("missing field `id`"),
        "{text}"
    );
    let wrong = format!("{:?}", results[2].as_ref().unwrap_err());
    assert!(wrong.contains("item 3 of the page"), "{wrong}");
    assert!(
        !wrong.contains("secret-name-7f3") && !wrong.contains("four"),
        "values are masked: {wrong}"
    );
    assert!(wrong.contains("invalid type"), "{wrong}");

    let e = client(&server).list_page(ListSandboxes::new()).unwrap_err();
    assert!(e.to_string().contains("item 2 of the page"), "{e}");
    p1.assert();
    p2.assert();
}

/// A page that is not a page (its items not a list) is one error that
/// ends the listing, as before.
#[test]
fn a_page_that_does_not_decode_ends_the_listing() {
    let mut server = Server::new();
    let m = reply_json(
        list_mock(&mut server, Matcher::Missing),
        200,
        &json!({ "items": { "a": 1 }, "nextCursor": "c2" }),
    )
    .expect(1)
    .create();
    let results: Vec<_> = client(&server).list(ListSandboxes::new()).collect();
    assert_eq!(results.len(), 1);
    let e = results[0].as_ref().unwrap_err();
    assert!(
        e.is_decode() && !e.to_string().contains("of the page"),
        "{e}"
    );
    m.assert();
}

#[test]
fn list_items_without_detail_fields_decode() {
    let mut server = Server::new();
    let item = list_item_json("sb-1");
    for absent in ["env", "networkBlockAll", "volumes", "buildInfo"] {
        assert!(item.get(absent).is_none(), "{absent} in {item}");
    }
    let m = reply_json(
        list_mock(&mut server, Matcher::Missing),
        200,
        &list_page(&["sb-1"], None),
    )
    .expect(1)
    .create();

    let all: Vec<_> = client(&server)
        .list(ListSandboxes::new())
        .collect::<Result<_, _>>()
        .unwrap();

    m.assert();
    assert_eq!(all.len(), 1);
    let info = all[0].info();
    assert_eq!(info.id, "sb-1");
    assert_eq!(info.name, "name-sb-1");
    assert_eq!(info.state, Some(SandboxState::Started));
    assert_eq!(info.sandbox_class, Some(SandboxClass::Container));
    assert_eq!(
        info.labels.get("code-toolbox-language").map(String::as_str),
        Some("python")
    );
    assert!(info.env.is_empty());
    assert_eq!(info.network_block_all, None);
    assert!(info.volumes.is_empty());
    assert_eq!(info.build_info, None);
}

#[test]
fn an_unknown_state_decodes_to_other() {
    let mut server = Server::new();
    let mut item = list_item_json("sb-1");
    item["state"] = json!("melting");
    let m = reply_json(
        list_mock(&mut server, Matcher::Missing),
        200,
        &json!({ "items": [item], "nextCursor": null }),
    )
    .expect(1)
    .create();

    let all: Vec<_> = client(&server)
        .list(ListSandboxes::new())
        .collect::<Result<_, _>>()
        .unwrap();

    m.assert();
    assert_eq!(all[0].state(), Some(&SandboxState::Other("melting".into())));
}

#[test]
fn an_empty_page_with_a_cursor_continues_and_an_empty_cursor_ends() {
    let mut server = Server::new();
    let p1 = reply_json(
        list_mock(&mut server, Matcher::Missing),
        200,
        &list_page(&[], Some("c2")),
    )
    .expect(1)
    .create();
    let p2 = reply_json(
        list_mock(&mut server, Matcher::Exact("cursor=c2".into())),
        200,
        &list_page(&["b1"], Some("")),
    )
    .expect(1)
    .create();
    let after = list_mock(
        &mut server,
        Matcher::UrlEncoded("cursor".into(), String::new()),
    )
    .expect(0)
    .create();

    let all: Vec<_> = client(&server)
        .list(ListSandboxes::new())
        .collect::<Result<_, _>>()
        .unwrap();

    p1.assert();
    p2.assert();
    after.assert();
    assert_eq!(sandbox_ids(&all), ["b1"]);
}

#[test]
fn a_repeated_cursor_ends_with_an_error_instead_of_looping() {
    let mut server = Server::new();
    let p1 = reply_json(
        list_mock(&mut server, Matcher::Missing),
        200,
        &list_page(&["a1"], Some("c2")),
    )
    .expect(1)
    .create();
    let p2 = reply_json(
        list_mock(&mut server, Matcher::Exact("cursor=c2".into())),
        200,
        &list_page(&["b1"], Some("c2")),
    )
    .expect(1)
    .create();

    let results: Vec<_> = client(&server).list(ListSandboxes::new()).collect();

    p1.assert();
    p2.assert();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0].as_ref().unwrap().id(), "a1");
    assert_eq!(results[1].as_ref().unwrap().id(), "b1");
    assert!(results[2].is_err());
}

/// A listing resumed from a cursor whose page hands out that same cursor
/// again: the page is not read (nor its items yielded) a second time.
#[test]
fn a_resumed_listing_whose_page_repeats_its_own_cursor_ends_after_one_request() {
    let mut server = Server::new();
    let again = reply_json(
        list_mock(
            &mut server,
            Matcher::AllOf(vec![
                Matcher::UrlEncoded("limit".into(), "2".into()),
                Matcher::UrlEncoded("cursor".into(), "c2".into()),
            ]),
        ),
        200,
        &list_page(&["b1", "b2"], Some("c2")),
    )
    .expect(1)
    .create();

    let results: Vec<_> = client(&server)
        .list(ListSandboxes::new().limit(2).cursor("c2"))
        .collect();

    again.assert();
    assert_eq!(results.len(), 3, "{results:?}");
    assert_eq!(results[0].as_ref().unwrap().id(), "b1");
    assert_eq!(results[1].as_ref().unwrap().id(), "b2");
    let err = results[2].as_ref().unwrap_err();
    assert!(
        err.to_string().contains("repeated the page token \"c2\""),
        "{err}"
    );
}

#[test]
fn list_page_reads_one_page_and_its_cursor_resumes_the_listing() {
    let mut server = Server::new();
    let mocks = three_pages(&mut server, [1, 1, 1]);
    let daytona = client(&server);

    let first = daytona.list_page(ListSandboxes::new()).unwrap();
    assert_eq!(sandbox_ids(&first.items), ["a1", "a2", "a3"]);
    assert_eq!(first.next_cursor.as_deref(), Some("c2"));

    // A page from a cursor, then the rest of the listing from the next one.
    let second = daytona
        .list_page(ListSandboxes::new().cursor("c2"))
        .unwrap();
    assert_eq!(sandbox_ids(&second.items), ["b1", "b2", "b3"]);
    let cursor = second.next_cursor.unwrap();
    let rest: Vec<_> = daytona
        .list(ListSandboxes::new().cursor(cursor))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(sandbox_ids(&rest), ["c1", "c2", "c3"]);
    assert_all(&mocks);

    let mut nothing = Server::new();
    let none = no_requests(&mut nothing);
    let e = client(&nothing)
        .list_page(ListSandboxes::new().cursor(" "))
        .unwrap_err();
    assert_validation(&e, "cursor");
    assert_all(&none);
}

#[test]
fn a_listing_is_fused() {
    let mut server = Server::new();
    let _mocks = three_pages(&mut server, [1, 1, 1]);
    let mut pages = client(&server).list(ListSandboxes::new());
    assert_eq!(pages.by_ref().count(), 9);
    assert!(pages.next().is_none());
    assert!(pages.next().is_none());
}
