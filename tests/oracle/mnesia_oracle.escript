#!/usr/bin/env escript
%% -*- erlang -*-
%%! -noshell -noinput
%%
%% OTP oracle for emqx-backup: proves that mnesia backup files (the
%% `mnesia/<table>` entries of an EMQX 5.x export archive) are read by the
%% real `disk_log` and restored by the real `mnesia:restore/2` exactly the
%% way EMQX (emqx_mgmt_data_backup) does it.
%%
%% Every result is written to OUT as ONE term encoded with term_to_binary/1.
%% Exit status: 0 when the command ran (per-file errors are reported inside
%% the result term); 1 (message on stderr) for usage errors / crashes outside
%% of a per-file step.
%%
%% Commands
%% --------
%%   read FILE OUT
%%     Opens FILE with disk_log (halt log, internal format, read_only) and
%%     reads every item with disk_log:chunk/2 until eof.
%%     OUT := {ok, Items}                 all items in file order, including
%%                                        the leading {log_header, backup_log, ...}
%%          | {error, {badbytes, N, Items}} disk_log skipped N corrupt bytes
%%                                        (mnesia_backup:read/1 would silently
%%                                        ignore them; the oracle does not)
%%          | {error, Reason}             e.g. {not_a_log_file, File},
%%                                        {file_error, File, enoent},
%%                                        {corrupt_log_file, File} ...
%%
%%   restore OUT [--seed SEEDFILE] FILE1 [FILE2 ...]
%%     Starts mnesia on a fresh disc schema in a temp dir (nonode@nohost),
%%     creates every EMQX table listed in tables/0 below as disc_copies with
%%     EMQX's type/record_name/attributes, optionally dirty_writes the seed
%%     rows, then for every FILE (table name = basename of FILE, as for
%%     EMQX's mnesia/<table> entries):
%%       (a) EMQX's validation: mnesia:traverse_backup(File, mnesia_backup,
%%           dummy, read_only, Fun, Acc); Fun checks every {schema, Tab, CL}
%%           item: attributes(CL) == mnesia:table_info(Tab, attributes)
%%           (emqx_app additionally accepts the pre-5.4 list with `desc`
%%           instead of `extra`, like emqx_mgmt_auth:validate_mnesia_backup/1).
%%           The oracle additionally requires that a schema item exists.
%%       (b) mnesia:restore(File, [{default_op, keep_tables}]) must return
%%           {atomic, [Tab]}.
%%     SEEDFILE holds term_to_binary([{Tab, [Record]}]) with records tagged
%%     with the table's record_name (e.g. {user_info, ...} for
%%     emqx_authn_mnesia); they are written with mnesia:dirty_write/2 before
%%     any restore, so tests can observe keep_tables merge semantics.
%%     OUT := [{Tab :: atom(), Status, SortedRows :: [tuple()]}]
%%            one entry per FILE, in argument order, where
%%       Status := ok
%%               | {error, {unknown_table, Tab}}      (rows = [])
%%               | {error, different_table_schema}    attribute mismatch
%%               | {error, {unknow_fields, Attrs}}    emqx_app mismatch (EMQX's
%%                                                    own spelling)
%%               | {error, no_schema_item}
%%               | {error, {traverse, Other}}         traverse_backup failed
%%                                                    otherwise (corrupt file...)
%%               | {error, {restore, Other}}          restore result /= {atomic,[Tab]}
%%               | {error, {exception, Class, Reason}}
%%       SortedRows := lists:sort(mnesia:dirty_select(Tab, [{'_',[],['$_']}]))
%%            taken AFTER all files were processed (so seed rows are included).
%%            Rows are as mnesia returns them: element 1 is the record_name
%%            (e.g. {user_info, ...}, {banned, ...}, {psk_entry, ...}), NOT the
%%            table name that the backup file uses for its records.
%%     A file whose validation fails is not restored (as in EMQX).
%%
%% Notes
%%   * disk_log / mnesia_backup need the file name as a charlist; a binary
%%     path gives {badarg, ...}. No particular file extension is required
%%     for a halt log opened read_only.
%%   * Tables are disc_copies (as in EMQX); the temp dir is removed at exit.

-mode(compile).

tables() ->
    [
        {emqx_banned, set, banned, [who, by, reason, at, until]},
        {emqx_banned_rules, set, banned, [who, by, reason, at, until]},
        {emqx_authn_mnesia, ordered_set, user_info, [user_id, password_hash, salt, is_superuser]},
        {emqx_authn_mnesia_ns, ordered_set, emqx_authn_mnesia_ns,
            [user_id, password_hash, salt, is_superuser, extra]},
        {emqx_authn_scram_mnesia, ordered_set, user_info,
            [user_id, stored_key, server_key, salt, is_superuser]},
        {emqx_authn_scram_mnesia_ns, ordered_set, emqx_authn_scram_mnesia_ns,
            [user_id, stored_key, server_key, salt, is_superuser, extra]},
        {emqx_acl, ordered_set, emqx_acl, [who, rules]},
        {emqx_acl_ns, ordered_set, emqx_acl_ns, [who, rules, extra]},
        {emqx_admin, set, emqx_admin, [username, pwdhash, description, role, extra]},
        {emqx_app, set, emqx_app,
            [name, api_key, api_secret_hash, enable, extra, expired_at, created_at]},
        {emqx_psk, ordered_set, psk_entry, [psk_id, shared_secret, extra]},
        {emqx_retainer_message, ordered_set, retained_message, [topic, msg, expiry_time]},
        {emqx_mt_config, ordered_set, emqx_mt_config, [key, configs, extra]}
    ].

legacy_app_attributes() ->
    [name, api_key, api_secret_hash, enable, desc, expired_at, created_at].

main(Args) ->
    quiet_logger(),
    try run(Args) of
        ok -> halt(0)
    catch
        throw:{usage, Msg} ->
            io:format(standard_error, "error: ~s~n~s", [Msg, usage()]),
            halt(2);
        C:R:St ->
            io:format(standard_error, "oracle crashed: ~p:~p~n~p~n", [C, R, St]),
            halt(1)
    end.

usage() ->
    "usage:\n"
    "  mnesia_oracle.escript read FILE OUT\n"
    "  mnesia_oracle.escript restore OUT [--seed SEEDFILE] FILE1 [FILE2 ...]\n".

run(["read", File, Out]) ->
    write_out(Out, read_log(File));
run(["restore", Out, "--seed", Seed | Files]) when Files =/= [] ->
    write_out(Out, restore(read_seed(Seed), Files));
run(["restore", Out | Files]) when Files =/= [], hd(Files) =/= "--seed" ->
    write_out(Out, restore([], Files));
run(_) ->
    throw({usage, "bad arguments"}).

quiet_logger() ->
    _ = logger:set_primary_config(level, critical),
    ok.

write_out(Out, Term) ->
    case file:write_file(Out, term_to_binary(Term)) of
        ok -> ok;
        {error, R} -> throw({usage, io_lib:format("cannot write ~s: ~p", [Out, R])})
    end.

%%--------------------------------------------------------------------
%% read
%%--------------------------------------------------------------------

read_log(File) ->
    try
        Name = {mnesia_oracle_read, make_ref()},
        case disk_log:open([{name, Name}, {file, File}, {mode, read_only}, {repair, false}]) of
            {ok, Log} ->
                try
                    read_chunks(Log, start, [], 0)
                after
                    _ = disk_log:close(Log)
                end;
            {repaired, Log, _Recovered, _BadBytes} ->
                %% not expected in read_only mode, handled for completeness
                _ = disk_log:close(Log),
                {error, repaired};
            {error, Reason} ->
                {error, Reason}
        end
    catch
        C:R -> {error, {exception, C, R}}
    end.

read_chunks(Log, Cont, Acc, Bad) ->
    case disk_log:chunk(Log, Cont) of
        eof when Bad =:= 0 -> {ok, lists:append(lists:reverse(Acc))};
        eof -> {error, {badbytes, Bad, lists:append(lists:reverse(Acc))}};
        {error, Reason} -> {error, Reason};
        {Cont1, Items} -> read_chunks(Log, Cont1, [Items | Acc], Bad);
        {Cont1, Items, BadBytes} -> read_chunks(Log, Cont1, [Items | Acc], Bad + BadBytes)
    end.

%%--------------------------------------------------------------------
%% restore
%%--------------------------------------------------------------------

read_seed(SeedFile) ->
    case file:read_file(SeedFile) of
        {ok, Bin} ->
            case catch binary_to_term(Bin) of
                L when is_list(L) -> L;
                _ -> throw({usage, "seed file is not a term_to_binary'd list"})
            end;
        {error, R} ->
            throw({usage, io_lib:format("cannot read seed ~s: ~p", [SeedFile, R])})
    end.

restore(Seed, Files) ->
    Dir = tmp_dir(),
    try
        start_mnesia(Dir),
        create_tables(),
        seed(Seed),
        Statuses = [restore_file(File) || File <- Files],
        [
            {Tab, Status, dump(Tab, Status)}
         || {Tab, Status} <- Statuses
        ]
    after
        _ = (catch mnesia:stop()),
        _ = file:del_dir_r(Dir)
    end.

tmp_dir() ->
    Base =
        case os:getenv("TMPDIR") of
            false -> "/tmp";
            "" -> "/tmp";
            T -> T
        end,
    Dir = filename:join(
        Base,
        lists:flatten(
            io_lib:format("mnesia_oracle_~s_~b", [os:getpid(), erlang:unique_integer([positive])])
        )
    ),
    _ = file:del_dir_r(Dir),
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    Dir.

start_mnesia(Dir) ->
    ok = application:load(mnesia),
    ok = application:set_env(mnesia, dir, Dir),
    ok = mnesia:create_schema([node()]),
    ok = mnesia:start(),
    ok.

create_tables() ->
    lists:foreach(
        fun({Tab, Type, RecName, Attrs}) ->
            {atomic, ok} = mnesia:create_table(Tab, [
                {type, Type},
                {disc_copies, [node()]},
                {record_name, RecName},
                {attributes, Attrs}
            ])
        end,
        tables()
    ),
    ok = mnesia:wait_for_tables([T || {T, _, _, _} <- tables()], 30000).

seed(Seed) ->
    lists:foreach(
        fun({Tab, Recs}) ->
            lists:foreach(fun(R) -> ok = mnesia:dirty_write(Tab, R) end, Recs)
        end,
        Seed
    ).

known(Tab) -> lists:keymember(Tab, 1, tables()).

restore_file(File) ->
    Tab = list_to_atom(filename:basename(File)),
    Status =
        case known(Tab) of
            false ->
                {error, {unknown_table, Tab}};
            true ->
                try
                    case validate(File) of
                        ok -> do_restore(File, Tab);
                        Err -> Err
                    end
                catch
                    C:R -> {error, {exception, C, R}}
                end
        end,
    {Tab, Status}.

%% Mirrors emqx_mgmt_data_backup:validate_mnesia_backup/2 with the default
%% validator (and emqx_mgmt_auth's for emqx_app), plus a schema-item check.
validate(File) ->
    Fun = fun
        ({schema, Tab, CreateList} = Item, Acc) ->
            case validate_schema(Tab, CreateList) of
                ok -> {[Item], Acc#{schema_seen := true}};
                Error -> throw(Error)
            end;
        (Item, Acc) ->
            {[Item], Acc}
    end,
    Res = (catch mnesia:traverse_backup(
        File, mnesia_backup, dummy, read_only, Fun, #{schema_seen => false}
    )),
    case Res of
        {ok, #{schema_seen := true}} -> ok;
        {ok, #{schema_seen := false}} -> {error, no_schema_item};
        %% our throw({error, R}) comes back as {error, {"Backup traversal failed", R}}
        {error, {"Backup traversal failed", different_table_schema}} ->
            {error, different_table_schema};
        {error, {"Backup traversal failed", {unknow_fields, _} = Reason}} ->
            {error, Reason};
        Other -> {error, {traverse, Other}}
    end.

validate_schema(Tab, CreateList) ->
    Import = proplists:get_value(attributes, CreateList),
    Local = mnesia:table_info(Tab, attributes),
    case Import == Local of
        true ->
            ok;
        false when Tab =:= emqx_app ->
            case Import == legacy_app_attributes() of
                true -> ok;
                false -> {error, {unknow_fields, Import}}
            end;
        false ->
            {error, different_table_schema}
    end.

do_restore(File, Tab) ->
    case mnesia:restore(File, [{default_op, keep_tables}]) of
        {atomic, [Tab]} -> ok;
        Other -> {error, {restore, Other}}
    end.

dump(Tab, Status) ->
    case known(Tab) of
        true ->
            lists:sort(mnesia:dirty_select(Tab, [{'_', [], ['$_']}]));
        false ->
            _ = Status,
            []
    end.
