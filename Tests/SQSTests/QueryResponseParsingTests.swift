import Foundation
import PIICrypto
import Testing

@testable import SQS

@Suite("Query (XML) responses")
struct QueryResponseParsingTests {
    static let queueURL = "http://127.0.0.1:4566/000000000000/q"

    static func md5(_ s: String) -> String { MD5.hexDigest(s) }

    @Test func receiveMessageWithEscapesAndUnicode() throws {
        let body1 = "{\"user_id\":\"<a&b>\",\"note\":\"line1\r\nline2\"}"
        let body2 = "héllo 👋 世界 \"quoted\" 'single'"
        let xml = """
            <?xml version="1.0"?>
            <ReceiveMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">
              <ReceiveMessageResult>
                <Message>
                  <MessageId>5fea7756-0ea4-451a-a703-a558b933e274</MessageId>
                  <ReceiptHandle>MbZj6wDWli+JvwwJaBV+3dcjk2YW2vA3+STFFljTM8tJJg6HRG6PYSasuWXPJB+Cw==</ReceiptHandle>
                  <MD5OfBody>\(Self.md5(body1))</MD5OfBody>
                  <Body>{&quot;user_id&quot;:&quot;&lt;a&amp;b&gt;&quot;,&quot;note&quot;:&quot;line1&#xD;
            line2&quot;}</Body>
                  <Attribute><Name>SentTimestamp</Name><Value>1700000000123</Value></Attribute>
                  <Attribute><Name>ApproximateReceiveCount</Name><Value>3</Value></Attribute>
                </Message>
                <Message>
                  <MessageId>m2</MessageId>
                  <ReceiptHandle>r2</ReceiptHandle>
                  <MD5OfBody>\(Self.md5(body2).uppercased())</MD5OfBody>
                  <Body>h&#233;llo &#x1F44B; 世界 "quoted" &apos;single&apos;</Body>
                </Message>
              </ReceiveMessageResult>
              <ResponseMetadata><RequestId>b6633655-283d-45b4-aee4-4e84e0ae6afa</RequestId></ResponseMetadata>
            </ReceiveMessageResponse>
            """
        let operation = SQSOperations.receiveMessage(queueURL: Self.queueURL, maxMessages: 10, waitTimeSeconds: 20, visibilityTimeout: nil)
        let messages = try operation.decodeXML(try XMLDocumentParser.parse(xml))
        #expect(messages.count == 2)
        #expect(messages[0].messageID == "5fea7756-0ea4-451a-a703-a558b933e274")
        #expect(messages[0].receiptHandle == "MbZj6wDWli+JvwwJaBV+3dcjk2YW2vA3+STFFljTM8tJJg6HRG6PYSasuWXPJB+Cw==")
        #expect(messages[0].body == body1)
        #expect(messages[0].sentTimestamp == 1_700_000_000_123)
        #expect(messages[0].approximateReceiveCount == 3)
        #expect(!messages[0].md5Mismatch)
        #expect(messages[1].body == body2)
        #expect(messages[1].sentTimestamp == nil)
        #expect(!messages[1].md5Mismatch)
    }

    @Test func emptyReceive() throws {
        let xml = "<ReceiveMessageResponse><ReceiveMessageResult/><ResponseMetadata><RequestId>x</RequestId></ResponseMetadata></ReceiveMessageResponse>"
        let operation = SQSOperations.receiveMessage(queueURL: Self.queueURL, maxMessages: 1, waitTimeSeconds: 0, visibilityTimeout: nil)
        #expect(try operation.decodeXML(try XMLDocumentParser.parse(xml)).isEmpty)
    }

    @Test func md5MismatchIsFlaggedNotDropped() throws {
        let xml = """
            <ReceiveMessageResponse><ReceiveMessageResult><Message><MessageId>m</MessageId><ReceiptHandle>r</ReceiptHandle>\
            <MD5OfBody>00000000000000000000000000000000</MD5OfBody><Body>tampered</Body></Message></ReceiveMessageResult></ReceiveMessageResponse>
            """
        let operation = SQSOperations.receiveMessage(queueURL: Self.queueURL, maxMessages: 1, waitTimeSeconds: 0, visibilityTimeout: nil)
        let messages = try operation.decodeXML(try XMLDocumentParser.parse(xml))
        #expect(messages.count == 1)
        #expect(messages[0].md5Mismatch)
        #expect(messages[0].body == "tampered")
    }

    @Test func partialBatchFailure() throws {
        let xml = """
            <DeleteMessageBatchResponse>
              <DeleteMessageBatchResult>
                <DeleteMessageBatchResultEntry><Id>0</Id></DeleteMessageBatchResultEntry>
                <BatchResultErrorEntry><Id>1</Id><Code>ReceiptHandleIsInvalid</Code><Message>The input receipt handle is invalid.</Message><SenderFault>true</SenderFault></BatchResultErrorEntry>
                <DeleteMessageBatchResultEntry><Id>2</Id></DeleteMessageBatchResultEntry>
              </DeleteMessageBatchResult>
              <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>
            </DeleteMessageBatchResponse>
            """
        let operation = SQSOperations.deleteMessageBatch(queueURL: Self.queueURL, entries: [])
        let result = try operation.decodeXML(try XMLDocumentParser.parse(xml))
        #expect(result.successful == ["0", "2"])
        #expect(result.failed == [SQSBatchFailure(id: "1", code: "ReceiptHandleIsInvalid", senderFault: true, message: "The input receipt handle is invalid.")])
    }

    @Test func sendAndVisibilityBatchResults() throws {
        let send = """
            <SendMessageBatchResponse><SendMessageBatchResult><SendMessageBatchResultEntry><Id>a</Id><MessageId>x</MessageId>\
            <MD5OfMessageBody>y</MD5OfMessageBody></SendMessageBatchResultEntry></SendMessageBatchResult></SendMessageBatchResponse>
            """
        #expect(try SQSOperations.sendMessageBatch(queueURL: Self.queueURL, entries: []).decodeXML(try XMLDocumentParser.parse(send)).successful == ["a"])
        let change = """
            <ChangeMessageVisibilityBatchResponse><ChangeMessageVisibilityBatchResult><ChangeMessageVisibilityBatchResultEntry><Id>7</Id>\
            </ChangeMessageVisibilityBatchResultEntry></ChangeMessageVisibilityBatchResult></ChangeMessageVisibilityBatchResponse>
            """
        #expect(try SQSOperations.changeMessageVisibilityBatch(queueURL: Self.queueURL, entries: []).decodeXML(try XMLDocumentParser.parse(change)).successful == ["7"])
    }

    @Test func queueURLAndAttributes() throws {
        let create = "<CreateQueueResponse><CreateQueueResult><QueueUrl>http://h/1/q</QueueUrl></CreateQueueResult></CreateQueueResponse>"
        #expect(try SQSOperations.createQueue(name: "q", attributes: [:]).decodeXML(try XMLDocumentParser.parse(create)) == "http://h/1/q")
        let attributes = """
            <GetQueueAttributesResponse><GetQueueAttributesResult>
            <Attribute><Name>ApproximateNumberOfMessages</Name><Value>12</Value></Attribute>
            <Attribute><Name>VisibilityTimeout</Name><Value>30</Value></Attribute>
            </GetQueueAttributesResult></GetQueueAttributesResponse>
            """
        let parsed = try SQSOperations.getQueueAttributes(queueURL: Self.queueURL, names: []).decodeXML(try XMLDocumentParser.parse(attributes))
        #expect(parsed == ["ApproximateNumberOfMessages": "12", "VisibilityTimeout": "30"])
    }

    @Test func queryParametersForBatchesAndAttributes() {
        let change = SQSOperations.changeMessageVisibilityBatch(queueURL: "u", entries: [SQSVisibilityEntry(id: "0", receiptHandle: "h", visibilityTimeout: 60)])
        #expect(change.queryParameters.map { "\($0.0)=\($0.1)" } == [
            "QueueUrl=u", "ChangeMessageVisibilityBatchRequestEntry.1.Id=0",
            "ChangeMessageVisibilityBatchRequestEntry.1.ReceiptHandle=h", "ChangeMessageVisibilityBatchRequestEntry.1.VisibilityTimeout=60",
        ])
        let create = SQSOperations.createQueue(name: "q", attributes: ["VisibilityTimeout": "1", "DelaySeconds": "0"])
        #expect(create.queryParameters.map { "\($0.0)=\($0.1)" } == [
            "QueueName=q", "Attribute.1.Name=DelaySeconds", "Attribute.1.Value=0", "Attribute.2.Name=VisibilityTimeout", "Attribute.2.Value=1",
        ])
        let receive = SQSOperations.receiveMessage(queueURL: "u", maxMessages: 10, waitTimeSeconds: 20, visibilityTimeout: 45)
        #expect(receive.queryParameters.contains { $0 == ("AttributeName.1", "SentTimestamp") })
        #expect(receive.queryParameters.contains { $0 == ("AttributeName.2", "ApproximateReceiveCount") })
        #expect(receive.queryParameters.contains { $0 == ("VisibilityTimeout", "45") })
        #expect(receive.extraTimeout == .seconds(20))
    }

    @Test func errorResponse() throws {
        let xml = """
            <?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error><Type>Sender</Type>\
            <Code>AWS.SimpleQueueService.NonExistentQueue</Code><Message>The specified queue does not exist.</Message><Detail/></Error>\
            <RequestId>42d59b56-7407-4c4a-be0f-4c88daeea257</RequestId></ErrorResponse>
            """
        let response = HTTPResponse(status: 400, headers: [:], body: Array(xml.utf8))
        let error = SQSErrorParsing.xmlError(operation: "GetQueueUrl", response: response, root: try XMLDocumentParser.parse(xml))
        #expect(error.code == .service)
        #expect(error.awsCode == "AWS.SimpleQueueService.NonExistentQueue")
        #expect(error.requestID == "42d59b56-7407-4c4a-be0f-4c88daeea257")
        #expect(error.httpStatus == 400)
        #expect(!error.isRetryable)
        #expect(!error.description.contains("does not exist"))
    }

    @Test func throttlingErrorResponseIsRetryable() throws {
        let xml = "<ErrorResponse><Error><Code>RequestThrottled</Code><Message>m</Message></Error><RequestId>r</RequestId></ErrorResponse>"
        let response = HTTPResponse(status: 403, headers: ["x-amzn-requestid": "hdr"], body: Array(xml.utf8))
        let error = SQSErrorParsing.xmlError(operation: "ReceiveMessage", response: response, root: try XMLDocumentParser.parse(xml))
        #expect(error.code == .throttled)
        #expect(error.isRetryable)
        #expect(error.requestID == "hdr")
    }
}

@Suite("XML parser")
struct XMLParserTests {
    @Test func entitiesCDATACommentsAndAttributes() throws {
        let xml = """
            \u{FEFF}<?xml version="1.0" encoding="UTF-8"?>
            <!-- leading comment -->
            <a x="1" y='>'><b>1 &lt; 2 &amp;&amp; 3 &gt; 2</b><c><![CDATA[<raw> & stuff]]></c><d/><e>&#65;&#x42;&#x1F600;</e></a>
            """
        let root = try XMLDocumentParser.parse(xml)
        #expect(root.name == "a")
        #expect(root.childText("b") == "1 < 2 && 3 > 2")
        #expect(root.childText("c") == "<raw> & stuff")
        #expect(root.child("d")?.text == "")
        #expect(root.childText("e") == "AB😀")
    }

    @Test func lineEndings() throws {
        #expect(try XMLDocumentParser.parse("<a>x\r\ny\rz&#xD;&#13;</a>").text == "x\ny\nz\r\r")
    }

    @Test(arguments: ["", "<a>", "<a></b>", "<a>&bogus;</a>", "<a>&#xZZ;</a>", "<a></a><b/>", "not xml", "{\"json\":1}"])
    func malformedDocumentsThrow(_ text: String) {
        #expect(throws: XMLParseError.self) { try XMLDocumentParser.parse(text) }
    }
}
