import Foundation
import Testing
import Storage

/// `data://NAMESPACE/path` resolution under the data root.
struct DataAreaTests {
    let area = DataArea(root: URL(fileURLWithPath: "/srv/data"), userName: "ana")

    @Test func myIsTheCurrentUser() throws {
        #expect(try area.resolve(".my/BackblazeCredentials/credentials.json").path == "/srv/data/ana/BackblazeCredentials/credentials.json")
        #expect(try area.resolve(".my").path == "/srv/data/ana")
    }

    @Test func otherNamespacesAreFoldersOfTheRoot() throws {
        #expect(try area.resolve("team/reports/x.csv").path == "/srv/data/team/reports/x.csv")
        #expect(try area.resolve("team//reports/./x.csv").path == "/srv/data/team/reports/x.csv")
        #expect(try area.resolve("team/ünï code/x y.csv").path == "/srv/data/team/ünï code/x y.csv")
    }

    @Test func aTrailingSlashNamesAFolder() throws {
        let url = try area.resolve(".my/inbox/")
        #expect(url.hasDirectoryPath)
        #expect(url.path == "/srv/data/ana/inbox")
        #expect(try area.resolve(".my/inbox").hasDirectoryPath == false)
    }

    @Test(arguments: [".my/../bob/secret", "team/a/../../../etc/passwd", "../x", "..", ".my/../\u{301}x"])
    func dotDotCannotLeaveTheArea(path: String) throws {
        #expect(throws: StorageError(.invalidKey, "data://\(path) may not contain '..' segments", hint: "name the file from its namespace down, e.g. data://.my/folder/file")) {
            try area.resolve(path)
        }
    }

    @Test(arguments: ["", "/", ".", "./"])
    func aNamespaceIsRequired(path: String) throws {
        #expect(throws: StorageError(.invalidKey, "data://\(path) names no namespace", hint: "write data://.my/folder/file for your own files or data://NAMESPACE/folder/file")) {
            try area.resolve(path)
        }
    }

    @Test(arguments: ["", "..", "a/b"])
    func anUnusableUserNameIsReported(user: String) throws {
        let area = DataArea(root: URL(fileURLWithPath: "/srv/data"), userName: user)
        #expect(throws: StorageError(.invalidConfiguration, "data://.my/x cannot be resolved: the user name \"\(user)\" is not usable as a folder name", hint: "set $USER to your user name")) {
            try area.resolve(".my/x")
        }
        #expect(try area.resolve("team/x").path == "/srv/data/team/x", "other namespaces do not need the user")
    }

    @Test func defaultRootPrefersTheExplicitSetting() {
        let all = ["BUCKETFLOW_DATA_DIR": "/d", "XDG_DATA_HOME": "/xdg", "HOME": "/home/ana"]
        #expect(DataArea.defaultRoot(environment: all).path == "/d")
        #expect(DataArea.defaultRoot(environment: all.merging(["BUCKETFLOW_DATA_DIR": ""]) { $1 }).path == "/xdg/bucketflow/data")
        #expect(DataArea.defaultRoot(environment: ["XDG_DATA_HOME": "/xdg", "HOME": "/home/ana"]).path == "/xdg/bucketflow/data")
        #expect(DataArea.defaultRoot(environment: ["HOME": "/home/ana"]).path == "/home/ana/.local/share/bucketflow/data")
        #expect(DataArea.defaultRoot(environment: [:]).path == URL(fileURLWithPath: NSHomeDirectory()).appendingPathComponent(".local/share/bucketflow/data").path)
    }

    @Test func currentUserNameComesFromTheEnvironmentThenThePasswordDatabase() {
        #expect(DataArea.currentUserName(environment: ["USER": "ana"]) == "ana")
        let fallback = DataArea.currentUserName(environment: [:])
        let expected = getpwuid(getuid()).flatMap { $0.pointee.pw_name.map { String(cString: $0) } } ?? "user"
        #expect(fallback == expected)
        #expect(DataArea.currentUserName(environment: ["USER": ""]) == expected)
    }

    @Test func rootIsStandardized() throws {
        let area = DataArea(root: URL(fileURLWithPath: "/srv/x/../data/"), userName: "ana")
        #expect(try area.resolve(".my/f").path == "/srv/data/ana/f")
    }
}
