extension SQSBatchFailure {
    /// The code of a failure the client made up for an entry the response did not mention.
    public static let notReportedCode = "FetchDE.EntryNotReported"
}

extension SQSBatchResult {
    /// This result checked against the ids of the request's entries, so callers can trust it:
    /// every requested entry appears exactly once (in `successful` or `failed`, in request
    /// order) and no other id appears.
    ///
    /// A hostile or broken endpoint may answer with ids that were never sent ("99", "-1",
    /// "x"), report an entry twice or in both lists, or leave entries out. Unknown ids and
    /// repeated reports are ignored; an entry reported as both succeeded and failed counts
    /// as failed (its outcome is unknown); an entry not reported becomes a failure with code
    /// ``SQSBatchFailure/notReportedCode``. Each of these adds one to `anomalies`.
    func reconciled(with requestIDs: [String]) -> SQSBatchResult {
        var indexOf: [String: Int] = [:]
        for (index, id) in requestIDs.enumerated() where indexOf[id] == nil { indexOf[id] = index }
        enum Outcome { case succeeded, failed(SQSBatchFailure) }
        var outcomes = [Outcome?](repeating: nil, count: requestIDs.count)
        var anomalies = self.anomalies
        for id in successful {
            guard let index = indexOf[id] else { anomalies += 1; continue }
            if outcomes[index] != nil { anomalies += 1; continue }
            outcomes[index] = .succeeded
        }
        for failure in failed {
            guard let index = indexOf[failure.id] else { anomalies += 1; continue }
            switch outcomes[index] {
            case nil: outcomes[index] = .failed(failure)
            case .succeeded?:
                anomalies += 1
                outcomes[index] = .failed(failure)
            case .failed?:
                anomalies += 1
            }
        }
        var result = SQSBatchResult()
        for (index, outcome) in outcomes.enumerated() {
            switch outcome {
            case .succeeded?: result.successful.append(requestIDs[index])
            case .failed(let failure)?: result.failed.append(failure)
            case nil:
                anomalies += 1
                result.failed.append(SQSBatchFailure(
                    id: requestIDs[index], code: SQSBatchFailure.notReportedCode, senderFault: false,
                    message: "the response did not report this entry"))
            }
        }
        result.anomalies = anomalies
        return result
    }
}
