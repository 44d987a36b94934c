public import Logging
public import Settings
import SQS

extension BatchWriter {
    /// The writer `etl run` and `etl ingest` use: the database, data-key roll and deadlines
    /// from the settings; a message without a SentTimestamp is dated today (UTC).
    public convenience init(settings: FetchDESettings, logger: Logger) {
        self.init(
            url: settings.databaseURL,
            dekMaxEncryptions: settings.dekMaxEncryptions,
            fallbackDate: CivilDate.today(),
            deadline: .seconds(settings.batchDeadlineSeconds),
            pollDeadline: .seconds(settings.pollDeadlineSeconds),
            logger: logger
        )
    }
}
