public import Logging
public import Settings

extension BatchWriter {
    /// The writer `etl run` and `etl ingest` use: the database, data-key roll and deadlines
    /// from the settings.
    public convenience init(settings: FetchDESettings, fallbackDate: String, logger: Logger) {
        self.init(
            url: settings.databaseURL,
            dekMaxEncryptions: settings.dekMaxEncryptions,
            fallbackDate: fallbackDate,
            deadline: .seconds(settings.batchDeadlineSeconds),
            pollDeadline: .seconds(settings.pollDeadlineSeconds),
            logger: logger
        )
    }
}
