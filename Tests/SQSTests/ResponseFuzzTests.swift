import Foundation
import TestSupport
import PIICrypto
import Testing

@testable import SQS

/// Seeded fuzzing of the response parsers: thousands of mutations of real responses (byte
/// flips, truncation, duplication, deep nesting, huge values) go through the same parsing and
/// decoding as a live response. Each must parse or fail with the parser's own error type;
/// a crash fails the run. The seed is fixed, so CI runs the same inputs every time.
@Suite("Response parser fuzzing")
struct ResponseFuzzTests {
    static let rounds = 3000

    static let body = #"{"user_id": "424cdd21-063a-43a7-b91b-7ca1a833afae", "ip": "199.172.111.135", "device_id": "593-47-5928"}"#

    /// Real response shapes of every operation the client decodes, as moto and SQS send them.
    static let xmlSeeds = [
        """
        <?xml version="1.0"?><ReceiveMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><ReceiveMessageResult>\
        <Message><MessageId>5fea7756-0ea4-451a-a703-a558b933e274</MessageId><ReceiptHandle>MbZj6wDWli+JvwwJaBV+3dcjk2YW2vA3+STFFljTM8tJJg6HRG6PYSasuWXPJB+Cw==</ReceiptHandle>\
        <MD5OfBody>\(MD5.hexDigest(body))</MD5OfBody><Body>\(body.replacingOccurrences(of: "\"", with: "&quot;"))</Body>\
        <Attribute><Name>SentTimestamp</Name><Value>1700000000123</Value></Attribute>\
        <Attribute><Name>ApproximateReceiveCount</Name><Value>3</Value></Attribute></Message>\
        <Message><MessageId>m2</MessageId><ReceiptHandle>r2</ReceiptHandle><MD5OfBody>x</MD5OfBody><Body><![CDATA[a & <b>]]>&#x1F44B;</Body></Message>\
        </ReceiveMessageResult><ResponseMetadata><RequestId>b6633655-283d-45b4-aee4-4e84e0ae6afa</RequestId></ResponseMetadata></ReceiveMessageResponse>
        """,
        """
        <DeleteMessageBatchResponse><DeleteMessageBatchResult><DeleteMessageBatchResultEntry><Id>0</Id></DeleteMessageBatchResultEntry>\
        <BatchResultErrorEntry><Id>1</Id><Code>ReceiptHandleIsInvalid</Code><Message>The input receipt handle is invalid.</Message>\
        <SenderFault>true</SenderFault></BatchResultErrorEntry><DeleteMessageBatchResultEntry><Id>2</Id></DeleteMessageBatchResultEntry>\
        </DeleteMessageBatchResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DeleteMessageBatchResponse>
        """,
        """
        <ChangeMessageVisibilityBatchResponse><ChangeMessageVisibilityBatchResult><ChangeMessageVisibilityBatchResultEntry><Id>0</Id>\
        </ChangeMessageVisibilityBatchResultEntry></ChangeMessageVisibilityBatchResult></ChangeMessageVisibilityBatchResponse>
        """,
        """
        <GetQueueAttributesResponse><GetQueueAttributesResult><Attribute><Name>ApproximateNumberOfMessages</Name><Value>12</Value></Attribute>\
        <Attribute><Name>ApproximateNumberOfMessagesNotVisible</Name><Value>0</Value></Attribute></GetQueueAttributesResult></GetQueueAttributesResponse>
        """,
        "<GetQueueUrlResponse><GetQueueUrlResult><QueueUrl>http://h/1/q</QueueUrl></GetQueueUrlResult></GetQueueUrlResponse>",
        """
        <?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error><Type>Sender</Type>\
        <Code>AWS.SimpleQueueService.NonExistentQueue</Code><Message>The specified queue does not exist.</Message><Detail/></Error>\
        <RequestId>42d59b56-7407-4c4a-be0f-4c88daeea257</RequestId></ErrorResponse>
        """,
    ]

    static let jsonSeeds = [
        """
        {"Messages":[{"MessageId":"id-1","ReceiptHandle":"rh/1+=","MD5OfBody":"\(MD5.hexDigest(body))",
         "Body":"{\\"user_id\\": \\"424cdd21\\", \\"ip\\": \\"199.172.111.135\\", \\"device_id\\": \\"593-47-5928\\"}",
         "Attributes":{"SentTimestamp":"1700000000123","ApproximateReceiveCount":"2"}},
         {"MessageId":"id-2","ReceiptHandle":"rh2","MD5OfBody":"x","Body":"emoji \\ud83d\\udc4b \\u0000nul"}]}
        """,
        #"{"Successful":[{"Id":"0"},{"Id":"2"}],"Failed":[{"Id":"1","Code":"ReceiptHandleIsInvalid","Message":"m","SenderFault":true}]}"#,
        #"{"Attributes":{"ApproximateNumberOfMessages":"5","ApproximateNumberOfMessagesNotVisible":"0"}}"#,
        #"{"QueueUrl":"http://h/1/q"}"#,
        #"{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"nope"}"#,
    ]

    static let requestIDs = (0..<10).map { String($0) }

    /// Every decoder of the client, on one root element.
    static func decodeEveryOperation(xml root: XMLNode) -> Int {
        var decoded = 0
        func attempt(_ body: () throws -> Void) {
            do {
                try body()
                decoded += 1
            } catch {
                #expect(error is SQSError, "a decoder threw \(type(of: error))")
            }
        }
        attempt { _ = try SQSOperations.receiveMessage(queueURL: "u", maxMessages: 10, waitTimeSeconds: 0, visibilityTimeout: nil).decodeXML(root) }
        attempt {
            let result = try SQSOperations.deleteMessageBatch(queueURL: "u", entries: []).decodeXML(root)
            checkReconciled(result)
        }
        attempt { checkReconciled(try SQSOperations.changeMessageVisibilityBatch(queueURL: "u", entries: []).decodeXML(root)) }
        attempt { _ = try SQSOperations.getQueueAttributes(queueURL: "u", names: []).decodeXML(root) }
        attempt { _ = try SQSOperations.getQueueURL(name: "q").decodeXML(root) }
        _ = SQSErrorParsing.xmlError(operation: "ReceiveMessage", response: HTTPResponse(status: 400, headers: [:], body: []), root: root)
        return decoded
    }

    static func decodeEveryOperation(json object: [String: Any]) -> Int {
        var decoded = 0
        func attempt(_ body: () throws -> Void) {
            do {
                try body()
                decoded += 1
            } catch {
                #expect(error is SQSError, "a decoder threw \(type(of: error))")
            }
        }
        attempt { _ = try SQSOperations.receiveMessage(queueURL: "u", maxMessages: 10, waitTimeSeconds: 0, visibilityTimeout: nil).decodeJSON(object) }
        attempt { checkReconciled(try SQSOperations.deleteMessageBatch(queueURL: "u", entries: []).decodeJSON(object)) }
        attempt { _ = try SQSOperations.getQueueAttributes(queueURL: "u", names: []).decodeJSON(object) }
        attempt { _ = try SQSOperations.getQueueURL(name: "q").decodeJSON(object) }
        _ = SQSErrorParsing.jsonError(operation: "ReceiveMessage", response: HTTPResponse(status: 400, headers: [:], body: []), object: object)
        return decoded
    }

    /// Whatever a response says, the reconciled result names each requested entry exactly once.
    static func checkReconciled(_ result: SQSBatchResult) {
        let reconciled = result.reconciled(with: requestIDs)
        let named = reconciled.successful + reconciled.failed.map(\.id)
        #expect(named.sorted() == requestIDs.sorted())
    }

    /// Depth and element count of a parsed tree (both must be within the parser's caps).
    static func shape(_ node: XMLNode) -> (depth: Int, elements: Int) {
        var deepest = 0, elements = 0
        var stack = [(node, 1)]
        while let (current, depth) = stack.popLast() {
            elements += 1
            deepest = max(deepest, depth)
            stack.append(contentsOf: current.children.map { ($0, depth + 1) })
        }
        return (deepest, elements)
    }

    @Test("mutated Query (XML) responses parse within the caps or fail with XMLParseError")
    func xmlResponses() {
        var mutator = FuzzMutator(seed: 0xF0CC_5E5D_0001, grammar: .init(
            open: "<a>", close: "</a>",
            tokens: ["<", ">", "</", "/>", "&amp;", "&#x1F600;", "&#xD800;", "&#99999999999;", "&bogus;", "<![CDATA[", "]]>", "<!--", "-->",
                     "<?", "?>", "<Id>99</Id>", "<Id>-1</Id>", "<Id>x</Id>", "<BatchResultErrorEntry><Id>0</Id></BatchResultErrorEntry>",
                     "<Message><MessageId>m</MessageId><ReceiptHandle>r</ReceiptHandle><Body>b</Body></Message>", "\"", "'", "="]))
        var parsed = 0, rejected = 0, decoded = 0
        for round in 0..<Self.rounds {
            let seed = Array(Self.xmlSeeds[round % Self.xmlSeeds.count].utf8)
            let input = mutator.mutate(seed)
            do {
                let root = try XMLDocumentParser.parse(input)
                parsed += 1
                let (depth, elements) = Self.shape(root)
                #expect(depth <= XMLDocumentParser.maxDepth && elements <= XMLDocumentParser.maxElements, "round \(round)")
                decoded += Self.decodeEveryOperation(xml: root)
            } catch {
                rejected += 1
            }
        }
        // The corpus exercises both outcomes (a mutator gone trivial would fail here).
        #expect(parsed >= Self.rounds / 10 && rejected >= Self.rounds / 10, "parsed \(parsed), rejected \(rejected)")
        #expect(decoded >= Self.rounds / 10)
    }

    @Test("mutated JSON 1.0 responses decode or fail with SQSError")
    func jsonResponses() {
        var mutator = FuzzMutator(seed: 0xF0CC_5E5D_0002, grammar: .init(
            open: "[", close: "]",
            tokens: ["{", "}", "[", "]", ",", ":", "\"", "\\u0000", "\\ud800", "null", "true", "1e999", "-0", "18446744073709551616",
                     #"{"Id":"99"}"#, #"{"Id":-1}"#, #"{"Id":"x"}"#, #"{"Id":"0"}"#, #""Messages""#, #""Successful""#, #""Failed""#]))
        var objects = 0, rejected = 0, decoded = 0
        for round in 0..<Self.rounds {
            let seed = Array(Self.jsonSeeds[round % Self.jsonSeeds.count].utf8)
            let input = mutator.mutate(seed)
            guard let object = SQSOperations.jsonObject(input) else {
                rejected += 1
                continue
            }
            objects += 1
            decoded += Self.decodeEveryOperation(json: object)
        }
        #expect(objects >= Self.rounds / 10 && rejected >= Self.rounds / 10, "objects \(objects), rejected \(rejected)")
        #expect(decoded >= Self.rounds / 10)
    }
}
