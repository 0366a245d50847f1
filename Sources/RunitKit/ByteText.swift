#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Text that carries any bytes. A command line's arguments and an environment's values are
/// bytes, not always UTF-8, and a `String` made by `String(cString:)` turns what is not UTF-8
/// into U+FFFD: a child would get other bytes than the user gave.
///
/// A byte that is not part of valid UTF-8 is kept as one scalar of a private-use range,
/// U+10FF80 to U+10FFFF (U+10FF00 plus the byte); a scalar of that range that was given as
/// valid UTF-8 is kept as its four bytes, each escaped so. Any bytes make one text and come back
/// from it unchanged, and UTF-8 without that range (all text in practice) is its own text.
public enum ByteText {
    /// The first scalar of the escapes, the escape of byte 0x80.
    static let firstEscape: UInt32 = 0x10_FF80

    /// The text of `bytes`.
    public static func text<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        if let text = bytes.withContiguousStorageIfAvailable({ self.text(UnsafeRawBufferPointer($0)) }) { return text }
        return text(Array(bytes))
    }

    /// The text of `bytes`. The overloads of contiguous bytes run no generic code: a command's
    /// arguments and its folder are made text at every start of a short command, where finding
    /// a generic collection's associated types at run time cost a tenth of its instructions.
    public static func text(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { text($0) }
    }

    /// The text of `bytes`.
    public static func text(_ bytes: ArraySlice<UInt8>) -> String {
        bytes.withUnsafeBytes { text($0) }
    }

    /// The text of `bytes`.
    public static func text(_ bytes: UnsafeRawBufferPointer) -> String {
        let units = bytes.assumingMemoryBound(to: UInt8.self)
        var ascii = true
        for byte in units where byte >= 0x80 {
            ascii = false
            break
        }
        if ascii { return String(decoding: units, as: UTF8.self) }
        var scalars = String.UnicodeScalarView()
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = units.makeIterator()
        var index = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                let scalar = Unicode.UTF8.decode(encoded)
                if scalar.value >= firstEscape {
                    scalars.append(contentsOf: encoded.map(escape))
                } else {
                    scalars.append(scalar)
                }
                index += encoded.count
            case .error(let length):
                scalars.append(contentsOf: units[index..<index + length].map(escape))
                index += length
            case .emptyInput:
                return String(scalars)
            }
        }
    }

    /// `text` as given, not as read: its real characters of the escapes' range (from a JSON
    /// request, say) kept as their own bytes, not taken for escapes. Other text is itself.
    public static func literal(_ text: String) -> String {
        text.utf8.contains(0xF4) ? self.text(Array(text.utf8)) : text
    }

    /// The text of a C string.
    public static func text(cString: UnsafePointer<CChar>) -> String {
        text(UnsafeRawBufferPointer(start: cString, count: strlen(cString)))
    }

    /// This process's command line without the program's name, each argument's bytes kept
    /// (`CommandLine.arguments` turns what is not UTF-8 into U+FFFD).
    public static var arguments: [String] {
        (1..<Int(CommandLine.argc)).compactMap { CommandLine.unsafeArgv[$0].map { text(cString: $0) } }
    }

    /// The bytes `text` stands for.
    public static func bytes(_ text: String) -> [UInt8] {
        // Every escape's UTF-8 starts with 0xF4.
        guard text.utf8.contains(0xF4) else { return Array(text.utf8) }
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if let byte = escapedByte(scalar) {
                out.append(byte)
            } else {
                out.append(contentsOf: UTF8.encode(scalar)!)
            }
        }
        return out
    }

    /// Calls `body` with the bytes of `text` as a C string (a path or an argument for the kernel).
    public static func withCString<Result>(_ text: String, _ body: (UnsafePointer<CChar>) throws -> Result) rethrows -> Result {
        guard text.utf8.contains(0xF4) else { return try text.withCString(body) }
        var bytes = bytes(text)
        bytes.append(0)
        return try bytes.withUnsafeBufferPointer { buffer in
            try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
        }
    }

    /// Whether `path` (its bytes) names a directory, links followed.
    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return withCString(path) { stat($0, &info) } == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    /// A copy of the bytes of `text` as a C string, from `malloc` (`free` it), as `strdup` makes.
    public static func duplicate(_ text: String) -> UnsafeMutablePointer<CChar>? {
        var bytes = bytes(text)
        bytes.append(0)
        return bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { strdup($0.baseAddress!) }
        }
    }

    /// `text` with control characters written as visible escapes (`\n`, `\t`, `\r`, `\e`,
    /// `\xNN`), so that a cell or a line never breaks its row or drives the terminal; with
    /// `keepingLines`, newlines and tabs stay (a message of several lines).
    public static func visible(_ text: String, keepingLines: Bool = false) -> String {
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == 0xC2 }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0A: out += keepingLines ? "\n" : "\\n"
            case 0x09: out += keepingLines ? "\t" : "\\t"
            case 0x0D: out += "\\r"
            case 0x1B: out += "\\e"
            case 0..<0x20, 0x7F...0x9F:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\x" + (hex.count < 2 ? "0" + hex : hex)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// `text` for people: each byte that is not UTF-8 written `\xHH`.
    public static func shown(_ text: String) -> String {
        guard text.utf8.contains(0xF4) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if let byte = escapedByte(scalar) {
                out += "\\x" + String(byte, radix: 16, uppercase: true)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// The byte `scalar` escapes, or nil when it is no escape.
    public static func escapedByte(_ scalar: Unicode.Scalar) -> UInt8? {
        scalar.value >= firstEscape ? UInt8(truncatingIfNeeded: scalar.value) : nil
    }

    /// The escape of a byte from 0x80 to 0xFF.
    static func escape(_ byte: UInt8) -> Unicode.Scalar {
        Unicode.Scalar(firstEscape - 0x80 + UInt32(byte))!
    }

    /// A JSON text's UTF-8 with each escape written `\udcXX` (XX the byte), the lone surrogate
    /// Python's `surrogateescape` writes: no JSON a `String` encodes holds one, so text written so
    /// reads back as the same bytes, and text written before as the same text
    /// (``JSONValue`` reads it back).
    public static func jsonBytes(_ json: String) -> [UInt8] {
        guard json.utf8.contains(0xF4) else { return Array(json.utf8) }
        var out: [UInt8] = []
        for scalar in json.unicodeScalars {
            if let byte = escapedByte(scalar) {
                out += Array("\\udc".utf8) + hexDigits(byte)
            } else {
                out.append(contentsOf: UTF8.encode(scalar)!)
            }
        }
        return out
    }

    /// The UTF-8 of the escape that `\udcXX` stands for, nil when `code` is not 0xDC80 to 0xDCFF.
    public static func jsonEscape(_ code: UInt32) -> [UInt8]? {
        guard (0xDC80...0xDCFF).contains(code) else { return nil }
        return Array(String(escape(UInt8(code - 0xDC00))).utf8)
    }

    /// `bytes` (valid UTF-8, from a JSON text) with each scalar of the escapes' range written
    /// as the escapes of its four bytes, as ``text(_:)`` keeps it.
    public static func escapingReserved(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            // U+10FF80 to U+10FFFF: F4 8F BE 80 to F4 8F BF BF.
            if bytes[index] == 0xF4, index + 3 < bytes.endIndex, bytes[index + 1] == 0x8F,
                bytes[index + 2] == 0xBE || bytes[index + 2] == 0xBF, (0x80...0xBF).contains(bytes[index + 3])
            {
                for byte in bytes[index...(index + 3)] { out.append(contentsOf: String(escape(byte)).utf8) }
                index += 4
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return out
    }

    private static func hexDigits(_ byte: UInt8) -> [UInt8] {
        let digits = Array("0123456789abcdef".utf8)
        return [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]]
    }
}
