/// A configuration problem: a missing file, a malformed line or an out-of-range value.
/// Messages name the key or the line, never the value (values may be secrets).
public struct SettingsError: Error, CustomStringConvertible, Sendable {
    /// What is wrong, as an extensible opaque code.
    public struct Code: Hashable, Sendable, CustomStringConvertible, CaseIterable {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The configuration file named does not exist.
        public static let missingFile = Code("missingFile")
        /// The configuration file is not UTF-8 text or has a line that is not INI.
        public static let malformedFile = Code("malformedFile")
        /// A setting has a value outside what it accepts.
        public static let invalidValue = Code("invalidValue")

        public static let allCases: [Code] = [.missingFile, .malformedFile, .invalidValue]
        public var description: String { name }
    }

    public let code: Code
    public let description: String

    public init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }
}
