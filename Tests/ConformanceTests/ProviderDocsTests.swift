import Foundation
import Testing
import Providers
import Storage

/// docs/providers.md lists every provider and every setting the providers
/// declare, so the docs follow the one description validation uses.
struct ProviderDocsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func docsListEveryProviderAndSetting() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("docs/providers.md"), encoding: .utf8)
        let sections = text.components(separatedBy: "\n## ")
        for provider in BuiltInProviders.registry.providers {
            let section = try #require(sections.first { $0.hasPrefix("`\(provider.name)`") }, "no section for \(provider.name)")
            let rows = section.split(separator: "\n").filter { $0.hasPrefix("| `") }
            let documented = rows.compactMap { $0.split(separator: "`").dropFirst().first.map(String.init) }
            #expect(documented == provider.settings.map(\.key), "\(provider.name)")
            for setting in provider.settings {
                let row = rows.first { $0.hasPrefix("| `\(setting.key)` |") } ?? ""
                let columns = row.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                guard columns.count >= 6 else { Issue.record("\(provider.name).\(setting.key): row \(row)"); continue }
                #expect(columns[2].hasPrefix(setting.kind.name), "\(provider.name).\(setting.key): type \(setting.kind.name), docs say \(columns[2])")
                #expect(columns[3] == (setting.required ? "yes" : ""), "\(provider.name).\(setting.key): required")
            }
        }
    }

    @Test func theRegistryHoldsTheBuiltInProvidersWithTheirRules() {
        let registry = BuiltInProviders.registry
        #expect(registry.names == ["local", "s3", "b2"])
        #expect(registry.provider(named: "b2")?.bucketNaming.check("b2-reserved") != nil)
        #expect(registry.provider(named: "b2")?.bucketNaming.check("Mixed-Case-OK") == nil)
        #expect(registry.provider(named: "s3")?.bucketNaming.check("Mixed-Case") != nil)
        #expect(registry.provider(named: "ftp") == nil)
    }
}
