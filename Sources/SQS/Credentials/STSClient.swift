import Foundation

/// The two STS operations the credential sources need, over the AWS Query protocol (form
/// POST, XML answer), through our libcurl transport; `AssumeRole` is SigV4-signed with the
/// source credentials, `AssumeRoleWithWebIdentity` is unsigned (the token is the proof).
struct STSClient: Sendable {
    let endpoint: String
    let region: String
    let caBundle: String?

    /// `AWS_ENDPOINT_URL_STS`, else `AWS_ENDPOINT_URL` (an emulator serving every service),
    /// else `explicit`, else the regional endpoint of the region's partition (the global
    /// `https://sts.amazonaws.com` signed for us-east-1 when no region is known).
    init(environment: [String: String], region: String?, explicitEndpoint: String? = nil, caBundle: String? = nil) {
        let env = environment.filter { !$0.value.isEmpty }
        if let url = env["AWS_ENDPOINT_URL_STS"] ?? env["AWS_ENDPOINT_URL"] ?? explicitEndpoint {
            endpoint = url.hasSuffix("/") ? url : url + "/"
        } else if let region {
            endpoint = AWSPartition.endpoint(service: "sts", region: region)
        } else {
            endpoint = "https://sts.amazonaws.com/"
        }
        self.region = region ?? "us-east-1"
        self.caBundle = caBundle ?? env["AWS_CA_BUNDLE"]
    }

    func assumeRole(
        roleARN: String, sessionName: String, externalID: String? = nil, durationSeconds: Int? = nil,
        sourceCredentials: AWSCredentials
    ) async throws -> AWSCredentials {
        var parameters = [("RoleArn", roleARN), ("RoleSessionName", sessionName)]
        if let externalID { parameters.append(("ExternalId", externalID)) }
        if let durationSeconds { parameters.append(("DurationSeconds", String(durationSeconds))) }
        return try await call("AssumeRole", parameters, signedWith: sourceCredentials)
    }

    func assumeRoleWithWebIdentity(roleARN: String, sessionName: String, token: String) async throws -> AWSCredentials {
        try await call("AssumeRoleWithWebIdentity",
                       [("RoleArn", roleARN), ("RoleSessionName", sessionName), ("WebIdentityToken", token)], signedWith: nil)
    }

    private func call(_ action: String, _ parameters: [(String, String)], signedWith credentials: AWSCredentials?) async throws -> AWSCredentials {
        let body = Array(AWSPercentEncoding.form([("Action", action), ("Version", "2011-06-15")] + parameters).utf8)
        var headers: [(name: String, value: String)] = [
            ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"), ("Accept", "text/xml"),
        ]
        if let credentials {
            var signed: [String: String] = [:]
            for header in headers { signed[header.name] = header.value }
            let added = SigV4Signer(service: "sts", region: region).sign(
                method: "POST", url: endpoint, headers: signed, body: body, credentials: credentials, date: Date())
            for key in added.keys.sorted() { headers.append((key, added[key]!)) }
        }
        headers.append(("User-Agent", "fetchde-sts/1"))
        let request = HTTPRequest(method: "POST", url: endpoint, headers: headers, body: body,
                                  connectTimeout: .seconds(5), timeout: .seconds(15), caBundle: caBundle)
        let response = try await CredentialsHTTP.perform([request]).last!
        guard (200..<300).contains(response.status) else {
            let code = (try? XMLDocumentParser.parse(response.body))?.descendant("Code")?.text
            throw SQSError(code: .credentials, awsCode: code, httpStatus: response.status,
                           isRetryable: response.status >= 500, operation: action)
        }
        guard let document = try? XMLDocumentParser.parse(response.body), let node = document.descendant("Credentials"),
            let accessKey = node.childText("AccessKeyId"), let secret = node.childText("SecretAccessKey") else {
            throw SQSError(code: .credentials, isRetryable: false, operation: action, reason: "unreadable STS response")
        }
        return AWSCredentials(accessKeyID: accessKey, secretAccessKey: secret, sessionToken: node.childText("SessionToken"),
                              expiration: node.childText("Expiration").flatMap(ISO8601.parse))
    }
}
