//! Holds `infra/template.yaml` to the code: the table equals `tables::shop_table()`, the queue
//! settings equal `setup`'s, the mall write queue feeds the writer function and every function
//! may send to it, every reference resolves (cfn-lint does not check references inside
//! `AWS::Serverless::Function`), IAM has no wildcards, and cfn-lint passes.

// Test helpers panic on purpose: a failed step is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use ichigen_aws::setup::{
    DLQ_RETENTION_SECS, IMPORT_FUNCTION_TIMEOUT_SECS, IMPORT_MAX_RECEIVE_COUNT,
    IMPORT_VISIBILITY_TIMEOUT_SECS, WRITE_MAX_RECEIVE_COUNT, WRITE_VISIBILITY_TIMEOUT_SECS,
    WRITER_FUNCTION_TIMEOUT_SECS,
};
use ichigen_aws::tables::{AttributeDef, AttributeType, IndexDef, KeyDef, ProjectionDef};
use ichigen_aws::{ShopResources, TableDefinition, shop_table};
use ichigen_core::import::ImportRequest;
use serde_yaml::Value;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn template_path() -> PathBuf {
    workspace_root().join("infra/template.yaml")
}

fn template() -> Value {
    let text = std::fs::read_to_string(template_path()).expect("read infra/template.yaml");
    serde_yaml::from_str(&text).expect("infra/template.yaml is YAML")
}

fn resources(template: &Value) -> &serde_yaml::Mapping {
    template["Resources"]
        .as_mapping()
        .expect("a Resources section")
}

/// The resource of this type, wherever it is declared (also inside `Fn::ForEach`).
fn only_resource<'a>(template: &'a Value, kind: &str) -> &'a Value {
    let mut found = Vec::new();
    collect_resources(resources(template), &mut found);
    let matching: Vec<_> = found
        .into_iter()
        .filter(|(_, r)| r["Type"] == kind)
        .collect();
    assert_eq!(matching.len(), 1, "expected exactly one {kind}");
    matching[0].1
}

/// `(logical id, resource)` pairs, with loop fragments' ids as written (`Secret&{StoreId}`).
fn collect_resources<'a>(map: &'a serde_yaml::Mapping, out: &mut Vec<(String, &'a Value)>) {
    for (key, value) in map {
        let key = key.as_str().unwrap_or_default();
        if key.starts_with("Fn::ForEach::") {
            if let Some(fragment) = value.get(2).and_then(Value::as_mapping) {
                collect_resources(fragment, out);
            }
        } else {
            out.push((key.to_owned(), value));
        }
    }
}

fn text<'a>(value: &'a Value, what: &str) -> &'a str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{what} should be a string, got {value:?}"))
}

fn number(value: &Value, what: &str) -> u64 {
    value
        .as_u64()
        .unwrap_or_else(|| panic!("{what} should be a number, got {value:?}"))
}

/// The string inside `!Sub "..."`.
fn sub_text<'a>(value: &'a Value, what: &str) -> &'a str {
    match value {
        Value::Tagged(tagged) if tagged.tag == "Sub" => text(&tagged.value, what),
        _ => panic!("{what} should be a !Sub string, got {value:?}"),
    }
}

fn key_def(schema: &Value) -> KeyDef {
    let elements = schema.as_sequence().expect("KeySchema is a list");
    let named = |kind: &str| {
        elements
            .iter()
            .find(|e| e["KeyType"] == kind)
            .map(|e| text(&e["AttributeName"], "AttributeName").to_owned())
    };
    assert!(elements.len() <= 2, "a key has at most two parts");
    KeyDef {
        partition: named("HASH").expect("a HASH key"),
        sort: named("RANGE"),
    }
}

fn table_definition(table: &Value) -> TableDefinition {
    let properties = &table["Properties"];
    let mut attributes: Vec<AttributeDef> = properties["AttributeDefinitions"]
        .as_sequence()
        .expect("AttributeDefinitions")
        .iter()
        .map(|a| AttributeDef {
            name: text(&a["AttributeName"], "AttributeName").to_owned(),
            kind: match text(&a["AttributeType"], "AttributeType") {
                "S" => AttributeType::S,
                "N" => AttributeType::N,
                "B" => AttributeType::B,
                other => panic!("unknown attribute type {other}"),
            },
        })
        .collect();
    attributes.sort();
    let indexes = properties["GlobalSecondaryIndexes"]
        .as_sequence()
        .map(|s| s.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|index| {
            let projection = &index["Projection"];
            IndexDef {
                name: text(&index["IndexName"], "IndexName").to_owned(),
                key: key_def(&index["KeySchema"]),
                projection: match text(&projection["ProjectionType"], "ProjectionType") {
                    "ALL" => ProjectionDef::All,
                    "KEYS_ONLY" => ProjectionDef::KeysOnly,
                    "INCLUDE" => ProjectionDef::Include(
                        projection["NonKeyAttributes"]
                            .as_sequence()
                            .expect("NonKeyAttributes")
                            .iter()
                            .map(|n| text(n, "NonKeyAttributes").to_owned())
                            .collect(),
                    ),
                    other => panic!("unknown projection {other}"),
                },
            }
        })
        .collect();
    TableDefinition {
        attributes,
        key: key_def(&properties["KeySchema"]),
        indexes,
        billing_mode: text(&properties["BillingMode"], "BillingMode").to_owned(),
        time_to_live_attribute: properties.get("TimeToLiveSpecification").map(|ttl| {
            assert_eq!(
                ttl["Enabled"],
                Value::Bool(true),
                "TTL declared but disabled"
            );
            text(
                &ttl["AttributeName"],
                "TimeToLiveSpecification.AttributeName",
            )
            .to_owned()
        }),
    }
}

#[test]
fn the_template_declares_the_table_the_code_defines() {
    let template = template();
    let table = only_resource(&template, "AWS::DynamoDB::Table");
    let mut expected = shop_table();
    expected.attributes.sort();
    assert_eq!(table_definition(table), expected);

    let properties = &table["Properties"];
    let names = ShopResources::with_prefix("ichigen-${ShopId}");
    assert_eq!(
        sub_text(&properties["TableName"], "TableName"),
        names.table_name
    );
    assert_eq!(
        properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        Value::Bool(true)
    );
}

#[test]
fn the_queues_match_the_local_setup() {
    let template = template();
    let names = ShopResources::with_prefix("ichigen-${ShopId}");
    let resources = resources(&template);
    let queue = &resources["ImportQueue"]["Properties"];
    let dlq = &resources["ImportDeadLetterQueue"]["Properties"];
    assert_eq!(
        sub_text(&queue["QueueName"], "QueueName"),
        names.import_queue_name
    );
    assert_eq!(
        sub_text(&dlq["QueueName"], "QueueName"),
        names.import_dlq_name
    );

    let redrive = &queue["RedrivePolicy"];
    assert_eq!(
        number(&redrive["maxReceiveCount"], "maxReceiveCount"),
        u64::from(IMPORT_MAX_RECEIVE_COUNT)
    );
    let Value::Tagged(target) = &redrive["deadLetterTargetArn"] else {
        panic!("deadLetterTargetArn should be !GetAtt ImportDeadLetterQueue.Arn");
    };
    assert_eq!(target.value, Value::from("ImportDeadLetterQueue.Arn"));

    let visibility = number(&queue["VisibilityTimeout"], "VisibilityTimeout");
    let timeout = number(
        &resources["ImportOrdersFunction"]["Properties"]["Timeout"],
        "Timeout",
    );
    assert_eq!(visibility, u64::from(IMPORT_VISIBILITY_TIMEOUT_SECS));
    assert_eq!(timeout, u64::from(IMPORT_FUNCTION_TIMEOUT_SECS));
    assert!(
        visibility >= 6 * timeout,
        "visibility timeout must be ≥ 6× the function timeout"
    );

    for q in [queue, dlq] {
        assert_eq!(q["FifoQueue"], Value::Bool(true));
    }
    assert_eq!(queue["ContentBasedDeduplication"], Value::Bool(true));

    let alarm = &resources["ImportDeadLetterAlarm"];
    let Value::Tagged(dimension) = &alarm["Properties"]["Dimensions"][0]["Value"] else {
        panic!("the alarm should watch the DLQ by !GetAtt");
    };
    assert_eq!(
        dimension.value,
        Value::from("ImportDeadLetterQueue.QueueName")
    );
}

/// The shop API: its own function and role, behind an HTTP API whose routes need SigV4 (but
/// the OpenAPI description), with access to the shop table and sending to the import and mall
/// write queues only.
#[test]
fn the_shop_api_is_behind_iam_and_reaches_only_the_table_and_the_queues() {
    let template = template();
    let resources = resources(&template);
    let function = &resources["ShopApiFunction"];
    assert_eq!(function["Type"], "AWS::Serverless::Function");
    assert_eq!(function["Metadata"]["BuildMethod"], "rust-cargolambda");
    let binary = text(&function["Metadata"]["BuildProperties"]["Binary"], "Binary");
    let package = std::fs::read_to_string(
        workspace_root()
            .join("functions")
            .join(binary)
            .join("Cargo.toml"),
    )
    .expect("functions/<binary>/Cargo.toml");
    assert!(package.contains(&format!("name = \"{binary}\"")));
    let properties = &function["Properties"];
    assert_eq!(properties["Runtime"], "provided.al2023");
    assert_eq!(properties["Handler"], "bootstrap");
    assert_eq!(properties["CodeUri"], "..");
    let Value::Tagged(role) = &properties["Role"] else {
        panic!("Role should be !GetAtt ShopApiRole.Arn");
    };
    assert_eq!(role.value, Value::from("ShopApiRole.Arn"));
    let variables = properties["Environment"]["Variables"]
        .as_mapping()
        .expect("variables");
    let names: BTreeSet<&str> = variables.keys().filter_map(Value::as_str).collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "ICHIGEN_IMPORT_QUEUE_URL",
            "ICHIGEN_SHOP_ID",
            "ICHIGEN_TABLE",
            "ICHIGEN_WRITE_QUEUE_URL",
            "RUST_LOG"
        ])
    );

    let api = &resources["ShopApi"];
    assert_eq!(api["Type"], "AWS::Serverless::HttpApi");
    assert_eq!(api["Properties"]["Auth"]["DefaultAuthorizer"], "AWS_IAM");

    // Every event is on this API; only the OpenAPI description opts out of IAM.
    let events = properties["Events"].as_mapping().expect("events");
    let mut paths = BTreeSet::new();
    for event in events.values() {
        assert_eq!(event["Type"], "HttpApi");
        let Value::Tagged(api_id) = &event["Properties"]["ApiId"] else {
            panic!("ApiId should be !Ref ShopApi");
        };
        assert_eq!(api_id.value, Value::from("ShopApi"));
        let path = text(&event["Properties"]["Path"], "Path");
        paths.insert(path.to_owned());
        let authorizer = &event["Properties"]["Auth"]["Authorizer"];
        if path == "/openapi.json" {
            assert_eq!(authorizer, &Value::from("NONE"));
        } else {
            assert!(authorizer.is_null(), "{path} must keep the IAM authorizer");
        }
    }
    assert_eq!(
        paths,
        BTreeSet::from(["/openapi.json".to_owned(), "/shops/{proxy+}".to_owned()])
    );

    let mut found = Vec::new();
    statements(
        &resources["ShopApiRole"]["Properties"]["Policies"],
        &mut found,
    );
    let sids: BTreeSet<&str> = found.iter().filter_map(|s| s["Sid"].as_str()).collect();
    assert_eq!(
        sids,
        BTreeSet::from(["ImportQueue", "Logs", "MallWriteQueue", "ShopTable"])
    );
    for statement in &found {
        let resources = match &statement["Resource"] {
            Value::Sequence(items) => items.clone(),
            other => vec![other.clone()],
        };
        for resource in resources {
            let Value::Tagged(tagged) = &resource else {
                panic!("resource {resource:?} should reference a resource of the stack");
            };
            let target = tagged.value.as_str().unwrap_or_default();
            assert!(
                [
                    "OrdersTable.Arn",
                    "${OrdersTable.Arn}/index/*",
                    "ImportQueue.Arn",
                    "MallWriteQueue.Arn",
                    "ShopApiLogGroup.Arn"
                ]
                .contains(&target),
                "the shop API reaches {target}"
            );
        }
        if statement["Sid"] == "ImportQueue" || statement["Sid"] == "MallWriteQueue" {
            assert_eq!(
                statement["Action"],
                serde_yaml::from_str::<Value>("[sqs:SendMessage]").unwrap()
            );
        }
    }
}

/// What cfn-lint does not check inside `AWS::Serverless::Function`.
#[test]
fn the_import_function_is_built_and_wired_as_expected() {
    let template = template();
    let function = &resources(&template)["ImportOrdersFunction"];
    assert_eq!(function["Type"], "AWS::Serverless::Function");
    assert_eq!(function["Metadata"]["BuildMethod"], "rust-cargolambda");
    let binary = text(&function["Metadata"]["BuildProperties"]["Binary"], "Binary");
    let properties = &function["Properties"];
    assert_eq!(properties["Runtime"], "provided.al2023");
    assert_eq!(properties["Handler"], "bootstrap");
    assert_eq!(
        properties["Architectures"],
        serde_yaml::from_str::<Value>("[arm64]").unwrap()
    );

    // CodeUri is the workspace root, and the workspace has a package of that binary's name.
    let code = workspace_root()
        .join("infra")
        .join(text(&properties["CodeUri"], "CodeUri"));
    let manifest =
        std::fs::read_to_string(code.join("Cargo.toml")).expect("CodeUri has a Cargo.toml");
    assert!(
        manifest.contains("[workspace]"),
        "CodeUri should be the workspace root"
    );
    let package = std::fs::read_to_string(
        workspace_root()
            .join("functions")
            .join(binary)
            .join("Cargo.toml"),
    )
    .expect("functions/<binary>/Cargo.toml");
    assert!(
        package.contains(&format!("name = \"{binary}\"")),
        "package {binary}"
    );

    let variables = properties["Environment"]["Variables"]
        .as_mapping()
        .expect("variables");
    let names: BTreeSet<&str> = variables.keys().filter_map(Value::as_str).collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "ICHIGEN_IMPORT_QUEUE_URL",
            "ICHIGEN_SHOP_ID",
            "ICHIGEN_TABLE",
            "ICHIGEN_WRITE_QUEUE_URL",
            "RUST_LOG"
        ])
    );

    let events = properties["Events"].as_mapping().expect("events");
    let sqs: Vec<_> = events.values().filter(|e| e["Type"] == "SQS").collect();
    assert_eq!(sqs.len(), 1);
    assert_eq!(
        sqs[0]["Properties"]["FunctionResponseTypes"],
        serde_yaml::from_str::<Value>("[ReportBatchItemFailures]").unwrap()
    );
    // One request per invocation, so each has the function's whole time.
    assert_eq!(sqs[0]["Properties"]["BatchSize"], Value::from(1));
}

/// The mall writer's timeout and its queue's receive count, as the local setup has them.
const MALL_WRITER_TIMEOUT_SECS: u64 = WRITER_FUNCTION_TIMEOUT_SECS as u64;
const MALL_WRITE_MAX_RECEIVE_COUNT: u64 = WRITE_MAX_RECEIVE_COUNT as u64;

/// `!Ref name` or `!GetAtt name`, as the template writes them.
fn is_tagged(value: &Value, tag: &str, target: &str) -> bool {
    matches!(value, Value::Tagged(t) if t.tag == tag && t.value == target)
}

fn as_list(value: &Value) -> Vec<Value> {
    match value {
        Value::Sequence(items) => items.clone(),
        Value::Null => vec![],
        other => vec![other.clone()],
    }
}

/// The statements of a role's inline policies.
fn role_statements(resources: &serde_yaml::Mapping, role: &str) -> Vec<Value> {
    let role = &resources[role];
    assert_eq!(role["Type"], "AWS::IAM::Role");
    let mut found = Vec::new();
    statements(&role["Properties"]["Policies"], &mut found);
    found
}

/// The mall write queue: FIFO, de-duplicated by the senders' ids (not by content), one
/// message group per order, redriven to its own FIFO dead-letter queue after five receives,
/// with an alarm on the dead letters like the import's.
#[test]
fn the_mall_write_queue_is_fifo_with_a_dead_letter_queue_and_its_alarm() {
    let template = template();
    let resources = resources(&template);
    let queue = &resources["MallWriteQueue"];
    let dlq = &resources["MallWriteDeadLetterQueue"];
    for q in [queue, dlq] {
        assert_eq!(q["Type"], "AWS::SQS::Queue");
        assert_eq!(q["Properties"]["FifoQueue"], Value::Bool(true));
        assert_eq!(q["Properties"]["SqsManagedSseEnabled"], Value::Bool(true));
    }
    let (queue, dlq) = (&queue["Properties"], &dlq["Properties"]);
    let names = ShopResources::with_prefix("ichigen-${ShopId}");
    assert_eq!(
        sub_text(&queue["QueueName"], "QueueName"),
        names.write_queue_name
    );
    assert_eq!(
        sub_text(&dlq["QueueName"], "QueueName"),
        names.write_dlq_name
    );
    // Senders give each write its own de-duplication id; content-based de-duplication would
    // drop a second, equal write within five minutes.
    assert_eq!(queue["ContentBasedDeduplication"], Value::Bool(false));
    assert_eq!(
        number(&dlq["MessageRetentionPeriod"], "MessageRetentionPeriod"),
        u64::from(DLQ_RETENTION_SECS)
    );

    let redrive = &queue["RedrivePolicy"];
    assert_eq!(
        number(&redrive["maxReceiveCount"], "maxReceiveCount"),
        MALL_WRITE_MAX_RECEIVE_COUNT
    );
    assert!(
        is_tagged(
            &redrive["deadLetterTargetArn"],
            "GetAtt",
            "MallWriteDeadLetterQueue.Arn"
        ),
        "deadLetterTargetArn should be !GetAtt MallWriteDeadLetterQueue.Arn"
    );

    let visibility = number(&queue["VisibilityTimeout"], "VisibilityTimeout");
    let timeout = number(
        &resources["MallWriterFunction"]["Properties"]["Timeout"],
        "Timeout",
    );
    assert_eq!(timeout, MALL_WRITER_TIMEOUT_SECS);
    assert_eq!(
        visibility,
        u64::from(WRITE_VISIBILITY_TIMEOUT_SECS),
        "as set up locally"
    );
    assert!(
        visibility >= 6 * timeout,
        "visibility timeout {visibility} must be ≥ 6× the function timeout {timeout}"
    );

    // Watches the dead letters and tells whom the import's dead-letter alarm tells.
    let alarm = &resources["MallWriteDeadLetterAlarm"];
    assert_eq!(alarm["Type"], "AWS::CloudWatch::Alarm");
    let alarm = &alarm["Properties"];
    assert_eq!(
        sub_text(&alarm["AlarmName"], "AlarmName"),
        "ichigen-${ShopId}-mall-write-dead-letters"
    );
    assert_eq!(alarm["Namespace"], "AWS/SQS");
    assert_eq!(alarm["MetricName"], "ApproximateNumberOfMessagesVisible");
    let dimensions = alarm["Dimensions"].as_sequence().expect("Dimensions");
    assert_eq!(dimensions.len(), 1);
    assert_eq!(dimensions[0]["Name"], "QueueName");
    assert!(
        is_tagged(
            &dimensions[0]["Value"],
            "GetAtt",
            "MallWriteDeadLetterQueue.QueueName"
        ),
        "the alarm should watch the mall write DLQ by !GetAtt"
    );
    assert_eq!(alarm["ComparisonOperator"], "GreaterThanThreshold");
    assert_eq!(number(&alarm["Threshold"], "Threshold"), 0);
    let import_alarm = &resources["ImportDeadLetterAlarm"]["Properties"];
    for key in [
        "AlarmActions",
        "OKActions",
        "Statistic",
        "Period",
        "EvaluationPeriods",
        "TreatMissingData",
    ] {
        assert_eq!(alarm[key], import_alarm[key], "{key}");
    }
}

/// What cfn-lint does not check inside `AWS::Serverless::Function`, and the writer's role:
/// the table and its indexes (no scans), its own queue, this shop's secrets.
#[test]
fn the_mall_writer_is_built_and_wired_as_expected() {
    let template = template();
    let resources = resources(&template);
    let function = &resources["MallWriterFunction"];
    let import = &resources["ImportOrdersFunction"];
    assert_eq!(function["Type"], "AWS::Serverless::Function");
    assert_eq!(function["Metadata"]["BuildMethod"], "rust-cargolambda");
    assert_eq!(
        function["Metadata"]["BuildProperties"]["Binary"],
        "mall-writer"
    );
    let properties = &function["Properties"];
    for key in ["CodeUri", "Handler", "Runtime", "Architectures"] {
        assert_eq!(properties[key], import["Properties"][key], "{key}");
    }
    assert_eq!(
        properties["Architectures"],
        serde_yaml::from_str::<Value>("[arm64]").unwrap()
    );
    assert_eq!(
        sub_text(&properties["FunctionName"], "FunctionName"),
        "ichigen-${ShopId}-mall-writer"
    );
    assert!(is_tagged(
        &properties["Role"],
        "GetAtt",
        "MallWriterRole.Arn"
    ));
    assert!(is_tagged(
        &properties["LoggingConfig"]["LogGroup"],
        "Ref",
        "MallWriterLogGroup"
    ));
    let log_group = &resources["MallWriterLogGroup"]["Properties"];
    assert_eq!(
        sub_text(&log_group["LogGroupName"], "LogGroupName"),
        "/aws/lambda/ichigen-${ShopId}-mall-writer"
    );
    assert_eq!(
        log_group["RetentionInDays"],
        resources["ImportOrdersLogGroup"]["Properties"]["RetentionInDays"]
    );

    let variables = properties["Environment"]["Variables"]
        .as_mapping()
        .expect("variables");
    let names: BTreeSet<&str> = variables.keys().filter_map(Value::as_str).collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "ICHIGEN_SHOP_ID",
            "ICHIGEN_TABLE",
            "ICHIGEN_WRITE_QUEUE_URL",
            "RUST_LOG"
        ])
    );
    assert!(is_tagged(&variables["ICHIGEN_TABLE"], "Ref", "OrdersTable"));
    assert!(is_tagged(&variables["ICHIGEN_SHOP_ID"], "Ref", "ShopId"));

    // Fed by the write queue alone: up to ten writes a time, each failed one redelivered
    // alone, and as few instances as SQS allows (a store's mall rate is shared by them).
    let events = properties["Events"].as_mapping().expect("events");
    assert_eq!(events.len(), 1, "the write queue is the only event source");
    let event = events.values().next().unwrap();
    assert_eq!(event["Type"], "SQS");
    let event = &event["Properties"];
    assert!(is_tagged(&event["Queue"], "GetAtt", "MallWriteQueue.Arn"));
    assert_eq!(event["BatchSize"], Value::from(10));
    assert_eq!(
        event["FunctionResponseTypes"],
        serde_yaml::from_str::<Value>("[ReportBatchItemFailures]").unwrap()
    );
    assert_eq!(event["ScalingConfig"]["MaximumConcurrency"], Value::from(2));

    let found = role_statements(resources, "MallWriterRole");
    let sids: BTreeSet<&str> = found.iter().filter_map(|s| s["Sid"].as_str()).collect();
    assert_eq!(
        sids,
        BTreeSet::from(["Logs", "MallWriteQueue", "Orders", "ShopSecrets"])
    );
    assert_eq!(found.len(), sids.len(), "every statement has its own Sid");
    let import_secrets = role_statements(resources, "ImportOrdersRole")
        .into_iter()
        .find(|s| s["Sid"] == "ShopSecrets")
        .expect("the import role's ShopSecrets");
    let actions = |s: &Value| -> BTreeSet<String> {
        as_list(&s["Action"])
            .iter()
            .map(|a| text(a, "Action").to_owned())
            .collect()
    };
    let names =
        |list: &[&str]| -> BTreeSet<String> { list.iter().map(|a| (*a).to_owned()).collect() };
    for statement in &found {
        assert_eq!(statement["Effect"], "Allow");
        let resources = as_list(&statement["Resource"]);
        match text(&statement["Sid"], "Sid") {
            "Logs" => {
                assert_eq!(
                    actions(statement),
                    names(&["logs:CreateLogStream", "logs:PutLogEvents"])
                );
                assert_eq!(resources.len(), 1);
                assert!(is_tagged(&resources[0], "GetAtt", "MallWriterLogGroup.Arn"));
            }
            "Orders" => {
                assert_eq!(
                    actions(statement),
                    names(&[
                        "dynamodb:DeleteItem",
                        "dynamodb:GetItem",
                        "dynamodb:PutItem",
                        "dynamodb:Query",
                        "dynamodb:UpdateItem",
                    ])
                );
                assert_eq!(resources.len(), 2);
                assert!(is_tagged(&resources[0], "GetAtt", "OrdersTable.Arn"));
                assert!(is_tagged(
                    &resources[1],
                    "Sub",
                    "${OrdersTable.Arn}/index/*"
                ));
            }
            "MallWriteQueue" => {
                // What the event source mapping needs, and SendMessage to re-queue a write.
                assert_eq!(
                    actions(statement),
                    names(&[
                        "sqs:ChangeMessageVisibility",
                        "sqs:DeleteMessage",
                        "sqs:GetQueueAttributes",
                        "sqs:ReceiveMessage",
                        "sqs:SendMessage",
                    ])
                );
                assert_eq!(resources.len(), 1);
                assert!(is_tagged(&resources[0], "GetAtt", "MallWriteQueue.Arn"));
            }
            "ShopSecrets" => {
                assert_eq!(
                    actions(statement),
                    names(&["secretsmanager:GetSecretValue"])
                );
                // This shop's store secrets only, as for the import.
                assert_eq!(statement["Resource"], import_secrets["Resource"]);
                assert!(
                    sub_text(&statement["Resource"], "Resource")
                        .ends_with(":secret:ichigen/${ShopId}/*")
                );
            }
            other => panic!("unexpected statement {other}"),
        }
    }
}

/// The import, the shop API and the writer all know the write queue's URL and may send to
/// it; the write queue is reachable by these roles alone, through its ARN alone.
#[test]
fn every_function_knows_the_mall_write_queue_and_may_send_to_it() {
    let template = template();
    let resources = resources(&template);
    let senders = [
        ("ImportOrdersFunction", "ImportOrdersRole"),
        ("ShopApiFunction", "ShopApiRole"),
        ("MallWriterFunction", "MallWriterRole"),
    ];
    let mut found = Vec::new();
    collect_resources(resources, &mut found);
    let functions: BTreeSet<&str> = found
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(
        functions,
        senders.iter().map(|(f, _)| *f).collect::<BTreeSet<_>>(),
        "every function of the stack is checked here"
    );

    for (function, role) in senders {
        let properties = &resources[function]["Properties"];
        // For an SQS queue, Ref is its URL.
        assert!(
            is_tagged(
                &properties["Environment"]["Variables"]["ICHIGEN_WRITE_QUEUE_URL"],
                "Ref",
                "MallWriteQueue"
            ),
            "{function}'s ICHIGEN_WRITE_QUEUE_URL should be !Ref MallWriteQueue"
        );
        assert!(is_tagged(
            &properties["Role"],
            "GetAtt",
            &format!("{role}.Arn")
        ));

        let statements = role_statements(resources, role);
        let sending: Vec<_> = statements
            .iter()
            .filter(|s| {
                as_list(&s["Resource"])
                    .iter()
                    .any(|r| is_tagged(r, "GetAtt", "MallWriteQueue.Arn"))
            })
            .collect();
        assert_eq!(sending.len(), 1, "{role}: one statement on the write queue");
        let statement = sending[0];
        assert_eq!(statement["Effect"], "Allow");
        assert_eq!(statement["Sid"], "MallWriteQueue", "{role}");
        assert!(
            as_list(&statement["Action"]).contains(&Value::from("sqs:SendMessage")),
            "{role} may send to the write queue"
        );
        assert_eq!(
            as_list(&statement["Resource"]).len(),
            1,
            "{role}: the write queue's statement names that queue alone"
        );
        if function != "MallWriterFunction" {
            // Senders only: receiving is the writer's.
            assert_eq!(
                as_list(&statement["Action"]),
                vec![Value::from("sqs:SendMessage")],
                "{role}"
            );
        }
    }

    // Nothing else names the write queues.
    let mut statements_all = Vec::new();
    statements(&template, &mut statements_all);
    let text_of = |v: &Value| serde_yaml::to_string(v).unwrap();
    let naming_writes = statements_all
        .iter()
        .filter(|s| {
            let resource = text_of(&s["Resource"]);
            resource.contains("MallWriteQueue") || resource.contains("MallWriteDeadLetterQueue")
        })
        .count();
    assert_eq!(naming_writes, senders.len());
}

/// The workspace has a package for each function's binary (where `sam build` finds it).
#[test]
fn every_function_binary_is_a_workspace_package() {
    let template = template();
    let mut found = Vec::new();
    collect_resources(resources(&template), &mut found);
    let functions: Vec<_> = found
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .collect();
    assert!(functions.len() >= 3, "{} functions", functions.len());
    for (id, function) in functions {
        assert_eq!(
            function["Metadata"]["BuildMethod"], "rust-cargolambda",
            "{id}"
        );
        let binary = text(&function["Metadata"]["BuildProperties"]["Binary"], "Binary");
        let manifest = workspace_root()
            .join("functions")
            .join(binary)
            .join("Cargo.toml");
        let package = std::fs::read_to_string(&manifest)
            .unwrap_or_else(|e| panic!("{id}: {}: {e}", manifest.display()));
        assert!(
            package.contains(&format!("name = \"{binary}\"")),
            "{id}: package {binary}"
        );
    }
}

/// What CloudFormation makes of the per-store loop for these parameter values: the loop's
/// fragment once per store with `${Store}` and `&{Store}` (alphanumerics only) replaced, then
/// the intrinsics it applies to parameters (`Sub`, `Select`, `Split`, `FindInMap`, `Ref` of a
/// parameter) evaluated. References to resources stay as written. cfn-lint expands the loop
/// over made-up store names only, so this is where real values are checked.
fn expand_store_loop(template: &Value, parameters: &[(&str, Value)]) -> Vec<(String, Value)> {
    let (_, looped) = resources(template)
        .iter()
        .find(|(k, _)| k.as_str().is_some_and(|k| k.starts_with("Fn::ForEach::")))
        .expect("a Fn::ForEach over the stores");
    let variable = text(&looped[0], "loop variable");
    let Value::Tagged(collection) = &looped[1] else {
        panic!("the collection should be !Ref of a parameter")
    };
    let mut values: std::collections::BTreeMap<String, Value> = template["Parameters"]
        .as_mapping()
        .expect("Parameters")
        .iter()
        .filter_map(|(name, p)| Some((name.as_str()?.to_owned(), p.get("Default")?.clone())))
        .collect();
    values.extend(parameters.iter().map(|(n, v)| ((*n).to_owned(), v.clone())));
    let stores = values[text(&collection.value, "collection")]
        .as_sequence()
        .expect("the store list")
        .clone();
    let fragment = looped[2].as_mapping().expect("fragment");
    let mut expanded = Vec::new();
    for store in &stores {
        let store = text(store, "store");
        let logical: String = store.chars().filter(char::is_ascii_alphanumeric).collect();
        let replace = |s: &str| {
            s.replace(&format!("${{{variable}}}"), store)
                .replace(&format!("&{{{variable}}}"), &logical)
        };
        for (key, resource) in fragment {
            let resource = replace_strings(resource, &replace);
            expanded.push((
                replace(text(key, "logical id")),
                evaluate(&resource, &values, &template["Mappings"]),
            ));
        }
    }
    expanded
}

fn replace_strings(value: &Value, replace: &impl Fn(&str) -> String) -> Value {
    match value {
        Value::String(s) => Value::String(replace(s)),
        Value::Sequence(items) => items.iter().map(|i| replace_strings(i, replace)).collect(),
        Value::Mapping(map) => Value::Mapping(
            map.iter()
                .map(|(k, v)| (replace_strings(k, replace), replace_strings(v, replace)))
                .collect(),
        ),
        Value::Tagged(tagged) => Value::Tagged(Box::new(serde_yaml::value::TaggedValue {
            tag: tagged.tag.clone(),
            value: replace_strings(&tagged.value, replace),
        })),
        other => other.clone(),
    }
}

/// Evaluates the parameter-only intrinsics (see [`expand_store_loop`]).
fn evaluate(
    value: &Value,
    parameters: &std::collections::BTreeMap<String, Value>,
    mappings: &Value,
) -> Value {
    let eval = |v: &Value| evaluate(v, parameters, mappings);
    match value {
        Value::Sequence(items) => items.iter().map(eval).collect(),
        Value::Mapping(map) => {
            Value::Mapping(map.iter().map(|(k, v)| (k.clone(), eval(v))).collect())
        }
        Value::Tagged(tagged) => {
            let arg = eval(&tagged.value);
            let part = |i: usize| arg.get(i).cloned().unwrap_or(Value::Null);
            match tagged.tag.to_string().trim_start_matches('!') {
                "Ref" => parameters
                    .get(text(&arg, "Ref"))
                    .cloned()
                    .unwrap_or_else(|| value.clone()),
                "Select" => {
                    let index = number(&part(0), "Select index") as usize;
                    part(1).get(index).cloned().expect("Select index in range")
                }
                "Split" => {
                    let delimiter = part(0);
                    let delimiter = text(&delimiter, "Split delimiter");
                    text(&part(1), "Split string")
                        .split(delimiter)
                        .map(Value::from)
                        .collect()
                }
                "FindInMap" => {
                    let key = |i: usize| text(&part(i), "FindInMap key").to_owned();
                    let found = &mappings[key(0).as_str()][key(1).as_str()][key(2).as_str()];
                    assert!(
                        !found.is_null(),
                        "FindInMap {} / {} / {} finds nothing",
                        key(0),
                        key(1),
                        key(2)
                    );
                    found.clone()
                }
                "Sub" => {
                    let (template, local) = match &arg {
                        Value::String(s) => (s.clone(), None),
                        _ => (
                            text(&part(0), "Sub").to_owned(),
                            part(1).as_mapping().cloned(),
                        ),
                    };
                    let mut out = template.clone();
                    for name in sub_variables(&template) {
                        let found = local
                            .as_ref()
                            .and_then(|l| l.get(name.as_str()).cloned())
                            .or_else(|| parameters.get(&name).cloned());
                        let replacement = match found {
                            Some(Value::String(s)) => s,
                            Some(Value::Number(n)) => n.to_string(),
                            _ => continue,
                        };
                        out = out.replace(&format!("${{{name}}}"), &replacement);
                    }
                    Value::String(out)
                }
                _ => value.clone(),
            }
        }
        other => other.clone(),
    }
}

#[test]
fn each_store_on_any_mall_gets_a_schedule_naming_it_a_secret_and_an_alarm() {
    let template = template();
    let stores = [
        "rakuten:store-a",
        "yahoo:my_shop",
        "aupay:au-main",
        "qoo10:q-shop",
        "amazon:jp-main",
    ];
    let expanded = expand_store_loop(
        &template,
        &[
            ("ShopId", Value::from("demo")),
            ("Stores", stores.iter().map(|s| Value::from(*s)).collect()),
        ],
    );
    let resource = |id: &str| {
        &expanded
            .iter()
            .find(|(logical, _)| logical == id)
            .unwrap_or_else(|| {
                panic!(
                    "no {id} among {:?}",
                    expanded.iter().map(|e| &e.0).collect::<Vec<_>>()
                )
            })
            .1
    };
    assert_eq!(
        expanded.len(),
        4 * stores.len(),
        "two schedules, a secret and an alarm per store"
    );
    for (store, logical, secret_name) in [
        (
            "rakuten:store-a",
            "rakutenstorea",
            "ichigen/demo/rakuten/store-a",
        ),
        ("yahoo:my_shop", "yahoomyshop", "ichigen/demo/yahoo/my_shop"),
        ("qoo10:q-shop", "qoo10qshop", "ichigen/demo/qoo10/q-shop"),
        (
            "amazon:jp-main",
            "amazonjpmain",
            "ichigen/demo/amazon/jp-main",
        ),
    ] {
        let store_ref: ichigen_core::StoreRef = store.parse().unwrap();
        for (schedule, request) in [
            ("ImportSchedule", ImportRequest::Differential),
            (
                "OpenOrdersSchedule",
                ImportRequest::OpenOrders { only: vec![] },
            ),
        ] {
            let schedule = resource(&format!("{schedule}{logical}"));
            assert_eq!(schedule["Type"], "AWS::Scheduler::Schedule");
            let target = &schedule["Properties"]["Target"];
            // Into the FIFO import queue, in the store's own message group: a store's runs
            // never overlap and share its mall rate budget.
            let Value::Tagged(arn) = &target["Arn"] else {
                panic!("the schedule should target !GetAtt ImportQueue.Arn")
            };
            assert_eq!(arn.value, Value::from("ImportQueue.Arn"));
            assert_eq!(target["SqsParameters"]["MessageGroupId"], store);
            // The body is an import command for the store; the scheduled time makes each
            // run's body distinct for FIFO de-duplication.
            let body = text(&target["Input"], "Input");
            let command: ichigen_core::import::ImportCommand =
                serde_json::from_str(body).expect("the schedule's message is an ImportCommand");
            assert_eq!(command.store, store_ref);
            assert_eq!(command.request, request);
            assert!(
                body.contains(r#""sent_at":"<aws.scheduler.scheduled-time>""#),
                "{body}"
            );
        }

        let secret = &resource(&format!("StoreSecret{logical}"))["Properties"];
        assert_eq!(secret["Name"], secret_name);
        // The placeholder has every field the mall's connector reads; only its values are
        // still to be put.
        let placeholder = text(&secret["SecretString"], "SecretString");
        let connected = ichigen_malls::connect(
            &store_ref,
            &ichigen_core::ports::SecretValue::new(placeholder.to_owned()),
            &ichigen_malls::MallEndpoints::default(),
            &ichigen_malls::ClientSettings::default(),
        );
        if let Err(e) = connected {
            assert!(
                matches!(e, ichigen_malls::ConnectError::BadField { .. }),
                "{store}'s placeholder secret: {e}"
            );
        }

        let alarm = &resource(&format!("CheckpointAlarm{logical}"))["Properties"];
        let dimensions = alarm["Dimensions"].as_sequence().unwrap();
        assert!(
            dimensions
                .iter()
                .any(|d| d["Name"] == "Store" && d["Value"] == store)
        );
        assert!(
            dimensions
                .iter()
                .any(|d| d["Name"] == "Shop" && d["Value"] == "demo")
        );
        assert_eq!(
            alarm["AlarmName"],
            format!(
                "ichigen-demo-{}-checkpoint-stale",
                secret_name
                    .trim_start_matches("ichigen/demo/")
                    .replace('/', "-")
            )
        );
    }
}

/// The Stores pattern and the placeholder secrets admit every mall ichigen connects to (all five).
#[test]
fn the_template_admits_every_mall_ichigen_connects_to() {
    let template = template();
    let pattern = text(
        &template["Parameters"]["Stores"]["AllowedPattern"],
        "AllowedPattern",
    );
    let admitted: BTreeSet<&str> = pattern
        .strip_prefix("^(")
        .and_then(|p| p.split_once("):"))
        .expect("the pattern starts ^(mall|mall):")
        .0
        .split('|')
        .collect();
    let with_placeholder: BTreeSet<&str> = template["Mappings"]["MallSecrets"]
        .as_mapping()
        .expect("Mappings.MallSecrets")
        .keys()
        .map(|k| text(k, "mall"))
        .collect();
    // Each placeholder's connector is checked with the real `connect` in the store-loop test.
    let connected: BTreeSet<&str> = ichigen_core::MallId::ALL
        .into_iter()
        .map(|mall| mall.as_str())
        .collect();
    assert_eq!(admitted, connected, "Stores' AllowedPattern");
    assert_eq!(with_placeholder, connected, "MallSecrets");
}

/// Every alarm tells the shop: it notifies the alarm topic, and the function's own metrics it
/// watches are ones the function publishes.
#[test]
fn every_alarm_notifies_the_topic_and_watches_a_published_metric() {
    use ichigen_aws::metrics::{NAMESPACE, name};
    let template = template();
    let mut found = Vec::new();
    collect_resources(resources(&template), &mut found);
    let alarms: Vec<_> = found
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::CloudWatch::Alarm")
        .collect();
    assert!(alarms.len() >= 9, "{} alarms", alarms.len());
    let published = [
        name::FAILED_IMPORTS,
        name::ACKNOWLEDGEMENT_FAILURES,
        name::FAILED_MALL_WRITES,
        name::CHECKPOINT_AGE,
        name::CREDENTIAL_REJECTED,
    ];
    let mut watched = BTreeSet::new();
    for (id, alarm) in alarms {
        let properties = &alarm["Properties"];
        let actions = properties["AlarmActions"]
            .as_sequence()
            .expect("AlarmActions");
        assert!(
            actions.iter().any(
                |a| matches!(a, Value::Tagged(t) if t.tag == "Ref" && t.value == "AlarmTopic")
            ),
            "{id} should notify AlarmTopic"
        );
        if properties["Namespace"] == NAMESPACE {
            let metric = text(&properties["MetricName"], "MetricName");
            assert!(
                published.contains(&metric),
                "{id} watches {metric}, which is not published"
            );
            watched.insert(metric.to_owned());
        }
    }
    assert_eq!(
        watched.len(),
        published.len(),
        "every published alarm metric is watched"
    );
    let subscription = &resources(&template)["AlarmEmailSubscription"];
    assert_eq!(subscription["Condition"], "HasAlarmEmail");
}

const PSEUDO_PARAMETERS: [&str; 8] = [
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
];

/// Every reference in a template that names nothing: `(path, problem)`.
fn unresolved_references(template: &Value) -> Vec<String> {
    let mut names: BTreeSet<String> = PSEUDO_PARAMETERS.iter().map(|s| s.to_string()).collect();
    if let Some(parameters) = template["Parameters"].as_mapping() {
        names.extend(
            parameters
                .keys()
                .filter_map(Value::as_str)
                .map(str::to_owned),
        );
    }
    let mut resource_names = BTreeSet::new();
    let mut found = Vec::new();
    if let Some(map) = template["Resources"].as_mapping() {
        collect_resources(map, &mut found);
    }
    resource_names.extend(found.into_iter().map(|(name, _)| name));
    names.extend(resource_names.iter().cloned());

    let mut problems = Vec::new();
    let checker = Checker {
        names: &names,
        resources: &resource_names,
    };
    checker.walk(template, "", &mut Vec::new(), &mut problems);
    problems
}

struct Checker<'a> {
    /// Parameters, resources and pseudo-parameters.
    names: &'a BTreeSet<String>,
    resources: &'a BTreeSet<String>,
}

impl Checker<'_> {
    fn walk(&self, value: &Value, path: &str, scope: &mut Vec<String>, problems: &mut Vec<String>) {
        match value {
            Value::Tagged(tagged) => {
                let tag = tagged.tag.to_string();
                let function = format!("Fn::{}", tag.trim_start_matches('!'));
                let function = if function == "Fn::Ref" {
                    "Ref".to_owned()
                } else {
                    function
                };
                self.function(&function, &tagged.value, path, scope, problems);
            }
            Value::Mapping(map) => {
                for (key, child) in map {
                    let key = key.as_str().unwrap_or_default();
                    let child_path = format!("{path}/{key}");
                    if let Some(_loop_name) = key.strip_prefix("Fn::ForEach::") {
                        self.for_each(child, &child_path, scope, problems);
                    } else if key == "Ref" || key.starts_with("Fn::") {
                        self.function(key, child, &child_path, scope, problems);
                    } else {
                        self.walk(child, &child_path, scope, problems);
                    }
                }
            }
            Value::Sequence(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.walk(item, &format!("{path}[{i}]"), scope, problems);
                }
            }
            _ => {}
        }
    }

    fn for_each(
        &self,
        value: &Value,
        path: &str,
        scope: &mut Vec<String>,
        problems: &mut Vec<String>,
    ) {
        let (Some(variable), Some(collection), Some(fragment)) = (
            value.get(0).and_then(Value::as_str),
            value.get(1),
            value.get(2),
        ) else {
            problems.push(format!(
                "{path}: Fn::ForEach needs [identifier, collection, fragment]"
            ));
            return;
        };
        self.walk(collection, path, scope, problems);
        scope.push(variable.to_owned());
        self.walk(fragment, path, scope, problems);
        scope.pop();
    }

    fn known(&self, name: &str, scope: &[String]) -> bool {
        self.names.contains(name) || scope.iter().any(|v| v == name)
    }

    fn function(
        &self,
        function: &str,
        arg: &Value,
        path: &str,
        scope: &mut Vec<String>,
        problems: &mut Vec<String>,
    ) {
        match function {
            "Ref" => match arg.as_str() {
                Some(name) if self.known(name, scope) => {}
                Some(name) => problems.push(format!("{path}: Ref {name} names nothing")),
                None => self.walk(arg, path, scope, problems),
            },
            "Fn::GetAtt" => {
                let target = match arg {
                    Value::String(s) => s.split_once('.').map(|(r, _)| r.to_owned()),
                    Value::Sequence(parts) => {
                        parts.first().and_then(Value::as_str).map(str::to_owned)
                    }
                    _ => None,
                };
                match target {
                    Some(resource) if self.resources.contains(&resource) => {}
                    Some(resource) => {
                        problems.push(format!("{path}: GetAtt {resource} is no resource"))
                    }
                    None => {
                        problems.push(format!("{path}: GetAtt {arg:?} is not resource.attribute"))
                    }
                }
                if let Value::Sequence(parts) = arg {
                    for part in parts.iter().skip(1) {
                        self.walk(part, path, scope, problems);
                    }
                }
            }
            "Fn::Sub" => {
                let (template, variables) = match arg {
                    Value::String(s) => (Some(s.as_str()), None),
                    Value::Sequence(parts) => (parts.first().and_then(Value::as_str), parts.get(1)),
                    _ => (None, None),
                };
                let Some(template) = template else {
                    problems.push(format!("{path}: Sub needs a string"));
                    return;
                };
                let local: BTreeSet<String> = variables
                    .and_then(Value::as_mapping)
                    .map(|m| {
                        m.keys()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                for variable in sub_variables(template) {
                    let resolves = match variable.split_once('.') {
                        Some((resource, _)) => self.resources.contains(resource),
                        None => local.contains(&variable) || self.known(&variable, scope),
                    };
                    if !resolves {
                        problems.push(format!("{path}: Sub ${{{variable}}} names nothing"));
                    }
                }
                if let Some(variables) = variables {
                    self.walk(variables, path, scope, problems);
                }
            }
            _ => self.walk(arg, path, scope, problems),
        }
    }
}

/// The `${name}` variables of a `Fn::Sub` string (`${!literal}` is an escape, not a variable).
fn sub_variables(template: &str) -> Vec<String> {
    let mut variables = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = after[..end].trim();
        if !name.starts_with('!') {
            variables.push(name.to_owned());
        }
        rest = &after[end + 1..];
    }
    variables
}

#[test]
fn every_reference_in_the_template_resolves() {
    let problems = unresolved_references(&template());
    assert!(
        problems.is_empty(),
        "unresolved references:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_reference_check_catches_mistakes() {
    let bad: Value = serde_yaml::from_str(
        r#"
Parameters: { ShopId: { Type: String } }
Resources:
  Queue: { Type: AWS::SQS::Queue }
  Function:
    Type: AWS::Serverless::Function
    Properties:
      Role: !GetAtt Rolee.Arn
      Environment:
        Variables:
          A: !Ref ShopID
          B: !Sub "${Queue.Arn}/${Missing}/${!Literal}/${AWS::Region}/${ShopId}"
          C: { "Fn::GetAtt": [Queuee, Arn] }
          D: { Ref: Queue }
  Fn::ForEach::Stores:
    - StoreId
    - !Ref Stores
    - Thing&{StoreId}:
        Type: AWS::SQS::Queue
        Properties: { QueueName: !Sub "${StoreId}-${Other}" }
"#,
    )
    .unwrap();
    let problems = unresolved_references(&bad);
    let named = |what: &str| problems.iter().any(|p| p.contains(what));
    assert_eq!(problems.len(), 6, "{problems:#?}");
    for what in [
        "Rolee",
        "ShopID",
        "${Missing}",
        "Queuee",
        "Ref Stores",
        "${Other}",
    ] {
        assert!(named(what), "{what} should be reported: {problems:#?}");
    }
}

/// IAM statements anywhere in the template (roles, SAM policies).
fn statements(value: &Value, out: &mut Vec<Value>) {
    match value {
        Value::Mapping(map) => {
            for (key, child) in map {
                if key == "Statement" {
                    match child {
                        Value::Sequence(items) => out.extend(items.iter().cloned()),
                        other => out.push(other.clone()),
                    }
                } else {
                    statements(child, out);
                }
            }
        }
        Value::Sequence(items) => items.iter().for_each(|i| statements(i, out)),
        Value::Tagged(tagged) => statements(&tagged.value, out),
        _ => {}
    }
}

#[test]
fn iam_statements_name_their_actions_and_resources() {
    let mut found = Vec::new();
    statements(&template(), &mut found);
    assert!(
        found.len() >= 5,
        "expected the import and scheduler roles' statements"
    );
    let as_list = |v: &Value| match v {
        Value::Sequence(items) => items.clone(),
        Value::Null => vec![],
        other => vec![other.clone()],
    };
    for statement in found {
        assert!(statement.get("NotAction").is_none() && statement.get("NotResource").is_none());
        for action in as_list(&statement["Action"]) {
            let action = text(&action, "Action");
            assert!(!action.contains('*'), "wildcard action {action}");
        }
        for resource in as_list(&statement["Resource"]) {
            assert_ne!(
                resource,
                Value::from("*"),
                "Resource \"*\" in {statement:?}"
            );
        }
    }
}

#[test]
fn cfn_lint_passes() {
    let program = std::env::var("ICHIGEN_CFN_LINT").unwrap_or_else(|_| "cfn-lint".to_owned());
    let output = match Command::new(&program).arg(template_path()).output() {
        Ok(output) => output,
        Err(e) => panic!(
            "cannot run {program} ({e}): install cfn-lint (the project's test script installs it \
             into its venv and puts it on PATH), or set ICHIGEN_CFN_LINT to its path"
        ),
    };
    assert!(
        output.status.success(),
        "cfn-lint infra/template.yaml failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
