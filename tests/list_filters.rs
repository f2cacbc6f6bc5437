//! The filters of a sandbox listing: each setter's query parameter and
//! wire value, and the arguments refused before any request (the paging
//! itself: `tests/list.rs`).

mod common;
use common::*;

use daytona::models::SandboxClass;
use daytona::{ListSandboxes, SandboxSort, SandboxState, SortOrder};
use mockito::{Matcher, Mock, Server};

#[test]
fn every_filter_is_mapped_to_its_query_parameter() {
    let mut server = Server::new();
    let expected = [
        "limit=50",
        "id=sb-",
        "name=web",
        "labels=%7B%22env%22%3A%22dev%22%2C%22team%22%3A%22infra%22%7D",
        "includeErroredDeleted=true",
        "states=started",
        "states=stopped",
        "snapshots=snap-a",
        "snapshots=snap-b",
        "regionIds=us",
        "regionIds=eu",
        "sandboxClasses=container",
        "sandboxClasses=linux-vm",
        "minCpu=1",
        "maxCpu=4",
        "minMemoryGiB=2",
        "maxMemoryGiB=9",
        "minDiskGiB=10",
        "maxDiskGiB=50",
        "isPublic=false",
        "isRecoverable=true",
        "createdAtAfter=2024-01-01T00%3A00%3A00Z",
        "createdAtBefore=2024-12-31T23%3A59%3A59Z",
        "lastEventAfter=2024-06-01T00%3A00%3A00Z",
        "lastEventBefore=2024-06-30T00%3A00%3A00.5%2B02%3A00",
        "sort=createdAt",
        "order=desc",
    ]
    .join("&");
    let m = reply_json(
        list_mock(&mut server, Matcher::Exact(expected)),
        200,
        &list_page(&["sb-1"], None),
    )
    .expect(1)
    .create();

    let query = ListSandboxes::new()
        .limit(50)
        .id_prefix("sb-")
        .name_prefix("web")
        .label("team", "infra")
        .labels([("env", "dev")])
        .include_errored_deleted(true)
        .state(SandboxState::Started)
        .state(SandboxState::Stopped)
        .snapshot("snap-a")
        .snapshot("snap-b")
        .target("us")
        .target("eu")
        .class(SandboxClass::Container)
        .class(SandboxClass::LinuxVm)
        .min_cpu(1)
        .max_cpu(4)
        .min_memory_gib(2)
        .max_memory_gib(9)
        .min_disk_gib(10)
        .max_disk_gib(50)
        .public(false)
        .recoverable(true)
        .created_after("2024-01-01T00:00:00Z")
        .created_before("2024-12-31T23:59:59Z")
        .last_activity_after("2024-06-01T00:00:00Z")
        .last_activity_before("2024-06-30T00:00:00.5+02:00")
        .sort(SandboxSort::CreatedAt, SortOrder::Desc);
    let all: Vec<_> = client(&server)
        .list(query)
        .collect::<Result<_, _>>()
        .unwrap();

    m.assert();
    assert_eq!(sandbox_ids(&all), ["sb-1"]);
}

#[test]
fn each_sort_field_and_order_has_its_wire_value() {
    let mut server = Server::new();
    let cases = [
        (SandboxSort::Name, SortOrder::Asc, "sort=name&order=asc"),
        (SandboxSort::Cpu, SortOrder::Desc, "sort=cpu&order=desc"),
        (
            SandboxSort::MemoryGib,
            SortOrder::Asc,
            "sort=memoryGib&order=asc",
        ),
        (
            SandboxSort::DiskGib,
            SortOrder::Asc,
            "sort=diskGib&order=asc",
        ),
        (
            SandboxSort::LastActivityAt,
            SortOrder::Desc,
            "sort=lastActivityAt&order=desc",
        ),
    ];
    let mocks: Vec<Mock> = cases
        .iter()
        .map(|(_, _, q)| {
            reply_json(
                list_mock(&mut server, Matcher::Exact(q.to_string())),
                200,
                &list_page(&[], None),
            )
            .expect(1)
            .create()
        })
        .collect();
    let daytona = client(&server);

    for (field, order, _) in cases {
        let items: Vec<_> = daytona
            .list(ListSandboxes::new().sort(field, order))
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(items.is_empty());
    }

    assert_all(&mocks);
}

#[test]
fn out_of_range_limit_is_a_validation_error_before_any_request() {
    let mut server = Server::new();
    let nothing = no_requests(&mut server);
    let daytona = client(&server);

    for limit in [0, 201] {
        let mut pages = daytona.list(ListSandboxes::new().limit(limit));
        assert_validation(&pages.next().unwrap().unwrap_err(), "limit");
        assert!(pages.next().is_none());
    }

    assert_all(&nothing);
}

/// A bare date and a date-time without seconds or offset are times the
/// API reads: sent as given.
#[test]
fn dates_and_short_date_times_are_sent_as_given() {
    let mut server = Server::new();
    let m = reply_json(
        list_mock(
            &mut server,
            Matcher::AllOf(vec![
                Matcher::UrlEncoded("createdAtAfter".into(), "2024-01-01".into()),
                Matcher::UrlEncoded("lastEventBefore".into(), "2024-06-30T09:30".into()),
            ]),
        ),
        200,
        &list_page(&["a1"], None),
    )
    .expect(1)
    .create();
    let found: Vec<_> = client(&server)
        .list(
            ListSandboxes::new()
                .created_after("2024-01-01")
                .last_activity_before("2024-06-30T09:30"),
        )
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(sandbox_ids(&found), ["a1"]);
    m.assert();
}

#[test]
fn invalid_ranges_and_times_are_validation_errors_before_any_request() {
    let mut server = Server::new();
    let nothing = no_requests(&mut server);
    let daytona = client(&server);

    let first = |q: ListSandboxes| daytona.list(q).next().unwrap().unwrap_err();
    assert_validation(&first(ListSandboxes::new().min_cpu(0)), "minCpu");
    assert_validation(&first(ListSandboxes::new().max_disk_gib(0)), "maxDiskGiB");
    assert_validation(
        &first(ListSandboxes::new().created_after("")),
        "createdAtAfter",
    );
    // Not an ISO 8601 date or date-time, which the API reads.
    for bad in [
        "yesterday",
        "01/02/2024",
        "2024-01-01T",
        "2024-13-01T00:00:00Z",
        "2024-01-01T24:00:00Z",
        "2024-01-01T00:00:00+2",
        "2024-01-01T00:00:00.Z",
        " 2024-01-01T00:00:00Z",
        "2024-01-01T00:00:00Z&x=1",
    ] {
        assert_validation(
            &first(ListSandboxes::new().last_activity_before(bad)),
            "lastEventBefore",
        );
    }

    assert_all(&nothing);
}
