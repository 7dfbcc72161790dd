"""`eddy serve --config` with a declared search-index sink (`Elasticsearch: {Endpoint, Index}`): items written
with boto3 reach noida-db's Elasticsearch as one document each, read back with `_search` over urllib; a bad
endpoint stops the server with a clear error."""
import json
import os
import shutil
import subprocess
import tempfile
import urllib.request

from conftest import Server, free_port
from test_eddy_cli import eddy
from test_triggers import eventually, write_config

ITEMS = {
    "TableName": "Items",
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}],
    "BillingMode": "PAY_PER_REQUEST",
    "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
}


def search(endpoint, index):
    """Every document of `index` by `_id`, after a refresh."""
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/{index}/_refresh", method="POST"), timeout=30).read()
    request = urllib.request.Request(
        f"{endpoint}/{index}/_search?size=1000", data=json.dumps({"query": {"match_all": {}}}).encode(),
        headers={"Content-Type": "application/json"}, method="POST")
    answer = json.load(urllib.request.urlopen(request, timeout=30))
    return {hit["_id"]: hit["_source"] for hit in answer["hits"]["hits"]}


def test_a_declared_search_sink_indexes_each_item(elasticsearch):
    config = write_config({
        "Tables": [ITEMS],
        "Triggers": [{"Name": "items-to-search", "TableName": "Items", "BatchSize": 4,
                      "Elasticsearch": {"Endpoint": elasticsearch, "Index": "items"}}],
    })
    server = Server("--config", config)
    try:
        client = server.client()
        for number in range(6):
            client.put_item(TableName="Items", Item={
                "pk": {"S": "a|b" if number % 2 else "c"}, "sk": {"N": str(number)}, "price": {"N": f"{number}.25"},
                "tags": {"SS": ["x", "y"]}, "meta": {"M": {"ok": {"BOOL": True}}}})
        client.update_item(TableName="Items", Key={"pk": {"S": "c"}, "sk": {"N": "2"}},
                           UpdateExpression="SET price = :p", ExpressionAttributeValues={":p": {"N": "99"}})
        client.delete_item(TableName="Items", Key={"pk": {"S": "c"}, "sk": {"N": "4"}})

        def indexed():
            documents = search(elasticsearch, "items")
            assert set(documents) == {"c|0", "c|2", "a\\|b|1", "a\\|b|3", "a\\|b|5"}, documents
            assert documents["c|2"]["price"] == 99
            return documents

        documents = eventually(indexed)
        assert documents["a\\|b|3"] == {"pk": "a|b", "sk": 3, "price": 3.25, "tags": ["x", "y"], "meta": {"ok": True}}
        status, listed = server.admin("GET", "triggers/items-to-search")
        assert status == 200
        assert listed["Kind"] == "Elasticsearch"
        assert listed["Declaration"]["Elasticsearch"] == {"Endpoint": elasticsearch, "Index": "items"}
    finally:
        server.stop()


def test_eddy_triggers_add_search_adds_the_sink_to_a_running_server(elasticsearch):
    server = Server("--config", write_config({"Tables": [ITEMS]}))
    try:
        status, output, errors = eddy("triggers", "add-search", "Items", "--elasticsearch-endpoint", elasticsearch,
                                      "--index", "added", "--batch-size", "2", "--endpoint-url", server.endpoint)
        assert status == 0, errors
        added = json.loads(output)
        assert (added["Name"], added["Kind"], added["Origin"]) == ("Items-to-added", "Elasticsearch", "Added")
        assert added["Settings"]["BatchSize"] == 2
        client = server.client()
        for number in range(3):
            client.put_item(TableName="Items", Item={"pk": {"S": "p"}, "sk": {"N": str(number)}})

        def indexed():
            assert set(search(elasticsearch, "added")) == {"p|0", "p|1", "p|2"}

        eventually(indexed)
    finally:
        server.stop()


def test_a_bad_search_endpoint_stops_the_server_with_a_clear_error():
    binary = os.environ.get("EDDY_BIN", ".build/debug/eddy")
    silent = f"http://127.0.0.1:{free_port()}"
    cases = [
        ("localhost:9200", "Endpoint localhost:9200 is not an http:// or https:// URL"),
        (silent, f"Index items at {silent}"),
    ]
    for endpoint, complaint in cases:
        data = tempfile.mkdtemp(prefix="eddy-bad-search-")
        config = write_config({
            "Tables": [ITEMS],
            "Triggers": [{"Name": "x", "TableName": "Items", "Elasticsearch": {"Endpoint": endpoint, "Index": "items"}}],
        })
        try:
            result = subprocess.run([binary, "serve", "--data-dir", data, "--port", "0", "--config", config],
                                    capture_output=True, text=True, timeout=120)
            assert result.returncode != 0
            assert complaint in result.stderr + result.stdout, result.stderr + result.stdout
        finally:
            shutil.rmtree(data, ignore_errors=True)
