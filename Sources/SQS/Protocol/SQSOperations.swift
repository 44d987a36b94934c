import Foundation
import PIICrypto

/// One SQS call in both wire encodings, with a decoder for each.
struct SQSOperation<Output: Sendable>: Sendable {
    /// The action name: `ReceiveMessage`, `DeleteMessageBatch`, ...
    let name: String
    /// The AWS JSON 1.0 request body.
    let jsonBody: [UInt8]
    /// The AWS Query parameters, `Action` and `Version` excluded.
    let queryParameters: [(String, String)]
    /// Added to the request timeout (long-poll wait time).
    var extraTimeout: Duration = .zero
    let decodeJSON: @Sendable ([String: Any]) throws -> Output
    /// Receives the response's root element.
    let decodeXML: @Sendable (XMLNode) throws -> Output

    init(
        name: String, json: [String: Any], query: [(String, String)], extraTimeout: Duration = .zero,
        decodeJSON: @escaping @Sendable ([String: Any]) throws -> Output,
        decodeXML: @escaping @Sendable (XMLNode) throws -> Output
    ) {
        self.name = name
        self.jsonBody = JSONRequestBody.encode(json)
        self.queryParameters = query
        self.extraTimeout = extraTimeout
        self.decodeJSON = decodeJSON
        self.decodeXML = decodeXML
    }
}

/// A response that does not have the expected shape.
func malformed(_ operation: String, _ reason: String) -> SQSError {
    SQSError(code: .invalidResponse, isRetryable: false, operation: operation, reason: reason)
}

extension SQSOperation where Output == Void {
    /// An operation that only takes a queue URL and returns nothing (`PurgeQueue`, `DeleteQueue`).
    static func queueOnly(_ name: String, queueURL: String) -> SQSOperation<Void> {
        SQSOperation<Void>(name: name, json: ["QueueUrl": queueURL], query: [("QueueUrl", queueURL)],
                           decodeJSON: { _ in }, decodeXML: { _ in })
    }
}

enum SQSOperations {
    /// A JSON response body as an object, or nil when it is not one (not JSON, not an
    /// object, nested deeper than `JSONResponseParser.maxDepth`, a number beyond Double).
    static func jsonObject(_ body: [UInt8]) -> [String: Any]? {
        JSONResponseParser.object(body)
    }

    static let receiveAttributes = ["SentTimestamp", "ApproximateReceiveCount"]

    static func receiveMessage(queueURL: String, maxMessages: Int, waitTimeSeconds: Int, visibilityTimeout: Int?) -> SQSOperation<[SQSMessage]> {
        var json: [String: Any] = [
            "QueueUrl": queueURL, "MaxNumberOfMessages": maxMessages, "WaitTimeSeconds": waitTimeSeconds,
            "MessageSystemAttributeNames": receiveAttributes,
        ]
        var query = [("QueueUrl", queueURL), ("MaxNumberOfMessages", String(maxMessages)), ("WaitTimeSeconds", String(waitTimeSeconds))]
        for (index, name) in receiveAttributes.enumerated() { query.append(("AttributeName.\(index + 1)", name)) }
        if let visibilityTimeout {
            json["VisibilityTimeout"] = visibilityTimeout
            query.append(("VisibilityTimeout", String(visibilityTimeout)))
        }
        return SQSOperation(
            name: "ReceiveMessage", json: json, query: query, extraTimeout: .seconds(max(0, waitTimeSeconds)),
            decodeJSON: { object in
                guard let messages = object["Messages"] else { return [] }
                guard let list = messages as? [[String: Any]] else { throw malformed("ReceiveMessage", "Messages is not a list") }
                try checkCount(list.count, asked: maxMessages)
                return try list.map { item in
                    try message(
                        id: item["MessageId"] as? String, receipt: item["ReceiptHandle"] as? String,
                        body: item["Body"] as? String, md5: item["MD5OfBody"] as? String,
                        attributes: item["Attributes"] as? [String: String] ?? [:])
                }
            },
            decodeXML: { root in
                guard let result = root.child("ReceiveMessageResult") else { return [] }
                let nodes = result.children("Message")
                try checkCount(nodes.count, asked: maxMessages)
                return try nodes.map { node in
                    var attributes: [String: String] = [:]
                    for attribute in node.children("Attribute") {
                        if let name = attribute.childText("Name") { attributes[name] = attribute.childText("Value") ?? "" }
                    }
                    return try message(
                        id: node.childText("MessageId"), receipt: node.childText("ReceiptHandle"),
                        body: node.childText("Body"), md5: node.childText("MD5OfBody"), attributes: attributes)
                }
            })
    }

    /// A receive never gets more messages than it asked for; more would overrun the caller's
    /// in-flight bounds, so the response is refused.
    static func checkCount(_ count: Int, asked: Int) throws {
        guard count <= asked else { throw malformed("ReceiveMessage", "more messages than asked for") }
    }

    /// The longest MessageId accepted (SQS sends 36-character UUIDs; the database column holds 128).
    static let maxMessageIDLength = 128
    /// The latest `SentTimestamp` believed: 9999-12-31T23:59:59.999Z, in milliseconds.
    static let maxSentTimestamp: Int64 = 253_402_300_799_999

    static func message(id: String?, receipt: String?, body: String?, md5: String?, attributes: [String: String]) throws -> SQSMessage {
        guard let id, let receipt, let body else { throw malformed("ReceiveMessage", "message without id, receipt handle or body") }
        // The id is the idempotency key and is logged: 1–128 printable ASCII characters.
        guard !id.isEmpty, id.utf8.count <= maxMessageIDLength, id.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw malformed("ReceiveMessage", "message id is empty, too long or not printable ASCII")
        }
        guard !receipt.isEmpty else { throw malformed("ReceiveMessage", "empty receipt handle") }
        let md5 = md5 ?? ""
        // Attributes out of any sane range are treated as absent, not trusted downstream.
        return SQSMessage(
            messageID: id, receiptHandle: receipt, body: body, md5OfBody: md5,
            sentTimestamp: attributes["SentTimestamp"].flatMap { Int64($0) }.flatMap { (0...maxSentTimestamp).contains($0) ? $0 : nil },
            approximateReceiveCount: attributes["ApproximateReceiveCount"].flatMap { Int($0) }.flatMap { (0...Int(Int32.max)).contains($0) ? $0 : nil },
            md5Mismatch: MD5.hexDigest(body) != md5.lowercased())
    }

    static func deleteMessageBatch(queueURL: String, entries: [SQSReceiptEntry]) -> SQSOperation<SQSBatchResult> {
        batch("DeleteMessageBatch", queueURL: queueURL, entries: entries.map {
            [("Id", $0.id), ("ReceiptHandle", $0.receiptHandle)]
        })
    }

    static func changeMessageVisibilityBatch(queueURL: String, entries: [SQSVisibilityEntry]) -> SQSOperation<SQSBatchResult> {
        batch("ChangeMessageVisibilityBatch", queueURL: queueURL, entries: entries.map {
            [("Id", $0.id), ("ReceiptHandle", $0.receiptHandle), ("VisibilityTimeout", $0.visibilityTimeout)]
        })
    }

    static func sendMessageBatch(queueURL: String, entries: [SQSSendEntry]) -> SQSOperation<SQSBatchResult> {
        batch("SendMessageBatch", queueURL: queueURL, entries: entries.map { entry in
            var fields: [(String, Any)] = [("Id", entry.id), ("MessageBody", entry.body)]
            if let delay = entry.delaySeconds { fields.append(("DelaySeconds", delay)) }
            return fields
        })
    }

    /// A `*Batch` action: entries as `Entries` (JSON) or `<Action>RequestEntry.N.Field` (Query).
    static func batch(_ name: String, queueURL: String, entries: [[(String, Any)]]) -> SQSOperation<SQSBatchResult> {
        var query = [("QueueUrl", queueURL)]
        var jsonEntries: [[String: Any]] = []
        for (index, fields) in entries.enumerated() {
            var jsonEntry: [String: Any] = [:]
            for (key, value) in fields {
                jsonEntry[key] = value
                query.append(("\(name)RequestEntry.\(index + 1).\(key)", "\(value)"))
            }
            jsonEntries.append(jsonEntry)
        }
        return SQSOperation(
            name: name, json: ["QueueUrl": queueURL, "Entries": jsonEntries], query: query,
            decodeJSON: { object in
                let successful = (object["Successful"] as? [[String: Any]] ?? []).compactMap { $0["Id"] as? String }
                let failed = (object["Failed"] as? [[String: Any]] ?? []).map { item in
                    SQSBatchFailure(
                        id: item["Id"] as? String ?? "", code: item["Code"] as? String ?? "",
                        senderFault: item["SenderFault"] as? Bool ?? false, message: item["Message"] as? String ?? "")
                }
                return SQSBatchResult(successful: successful, failed: failed)
            },
            decodeXML: { root in
                guard let result = root.child("\(name)Result") else { throw malformed(name, "missing result element") }
                var batch = SQSBatchResult()
                for child in result.children {
                    if child.name == "BatchResultErrorEntry" {
                        batch.failed.append(SQSBatchFailure(
                            id: child.childText("Id") ?? "", code: child.childText("Code") ?? "",
                            senderFault: child.childText("SenderFault")?.lowercased() == "true",
                            message: child.childText("Message") ?? ""))
                    } else if child.name.hasSuffix("ResultEntry"), let id = child.childText("Id") {
                        batch.successful.append(id)
                    }
                }
                return batch
            })
    }

    static func getQueueURL(name: String) -> SQSOperation<String> {
        queueURLResult("GetQueueUrl", json: ["QueueName": name], query: [("QueueName", name)])
    }

    static func createQueue(name: String, attributes: [String: String]) -> SQSOperation<String> {
        var query = [("QueueName", name)]
        for (index, key) in attributes.keys.sorted().enumerated() {
            query.append(("Attribute.\(index + 1).Name", key))
            query.append(("Attribute.\(index + 1).Value", attributes[key]!))
        }
        var json: [String: Any] = ["QueueName": name]
        if !attributes.isEmpty { json["Attributes"] = attributes }
        return queueURLResult("CreateQueue", json: json, query: query)
    }

    static func queueURLResult(_ name: String, json: [String: Any], query: [(String, String)]) -> SQSOperation<String> {
        SQSOperation(
            name: name, json: json, query: query,
            decodeJSON: { object in
                guard let url = object["QueueUrl"] as? String else { throw malformed(name, "missing QueueUrl") }
                return url
            },
            decodeXML: { root in
                guard let url = root.child("\(name)Result")?.childText("QueueUrl") else { throw malformed(name, "missing QueueUrl") }
                return url
            })
    }

    static func getQueueAttributes(queueURL: String, names: [String]) -> SQSOperation<[String: String]> {
        var query = [("QueueUrl", queueURL)]
        for (index, name) in names.enumerated() { query.append(("AttributeName.\(index + 1)", name)) }
        return SQSOperation(
            name: "GetQueueAttributes", json: ["QueueUrl": queueURL, "AttributeNames": names], query: query,
            decodeJSON: { object in object["Attributes"] as? [String: String] ?? [:] },
            decodeXML: { root in
                var attributes: [String: String] = [:]
                for node in root.child("GetQueueAttributesResult")?.children("Attribute") ?? [] {
                    if let name = node.childText("Name") { attributes[name] = node.childText("Value") ?? "" }
                }
                return attributes
            })
    }
}
