/// The product version printed by `--version`.
public enum FetchDEVersion {
    public static let current = "0.1.0"
}
